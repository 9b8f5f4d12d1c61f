// SPDX-License-Identifier: MIT
#include "output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

namespace imgbus::cli {
namespace {

std::string reason(int code) { return std::generic_category().message(code); }

Error output_error(int code, std::string message) {
    return {std::error_code(code, std::generic_category()), std::move(message)};
}

}  // namespace

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::filesystem::path& path) {
    std::filesystem::path temporary = path;
    temporary += ".tmp-imgbus";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        const int code = errno;
        return output_error(code, path.string() + ": cannot write the output file (creating " +
                                      temporary.string() + " failed: " + reason(code) +
                                      "); check that its folder exists and is writable");
    }
    return std::unique_ptr<OutputFile>(new OutputFile(path, std::move(temporary), fd));
}

OutputFile::OutputFile(std::filesystem::path path, std::filesystem::path temporary, int fd)
    : path_(std::move(path)), temporary_(std::move(temporary)), fd_(fd) {}

OutputFile::~OutputFile() {
    if (!committed_) {
        discard();
    }
}

void OutputFile::discard() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    ::unlink(temporary_.c_str());
}

Result<void> OutputFile::write(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t count = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            const int code = errno;
            return output_error(code, "writing " + temporary_.string() +
                                          " failed: " + reason(code) +
                                          "; check the free space of its file system");
        }
        done += static_cast<std::size_t>(count);
    }
    bytes_written_ += bytes.size();
    return {};
}

Result<void> OutputFile::commit() {
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) {
        const int code = errno;
        discard();
        return output_error(code, path_.string() + ": cannot write the output file (closing " +
                                      temporary_.string() + " failed: " + reason(code) +
                                      "); check the free space of its file system");
    }
    if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
        const int code = errno;
        discard();
        return output_error(code, path_.string() + ": cannot write: " + reason(code));
    }
    committed_ = true;
    return {};
}

}  // namespace imgbus::cli
