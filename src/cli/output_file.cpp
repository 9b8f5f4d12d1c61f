// SPDX-License-Identifier: MIT
#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

#include "output_target.hpp"

namespace imgbus::cli {
namespace {

std::string reason(int code) { return std::generic_category().message(code); }

Error output_error(int code, std::string message) {
    return {std::error_code(code, std::generic_category()), std::move(message)};
}

// The mode a plain open(2) with 0666 would give: mkostemp creates 0600.
mode_t default_mode() {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return 0666 & ~mask;
}

// Creates .NAME.tmp-imgbus-XXXXXX next to target with O_EXCL, which never follows a link.
int create_temporary(const std::filesystem::path& target, std::filesystem::path& temporary) {
    const auto folder = target.has_parent_path() ? target.parent_path() : ".";
    std::string base = ".";
    base += target.filename().string();
    base += ".tmp-imgbus-XXXXXX";
    std::string name = folder / base;
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    temporary = name;
    if (fd >= 0 && ::fchmod(fd, default_mode()) != 0) {
        const int code = errno;
        ::close(fd);
        ::unlink(name.c_str());
        errno = code;
        return -1;
    }
    return fd;
}

}  // namespace

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::filesystem::path& path) {
    auto target = resolve_output_target(path);
    if (!target) {
        return target.error();
    }
    if (target->write_through) {
        struct stat info {};
        const bool regular = ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (regular ? O_TRUNC : 0));
        if (fd < 0) {
            const int code = errno;
            return output_error(code, path.string() + ": cannot write the output file: " +
                                          reason(code) + "; check that it is open for writing");
        }
        return std::unique_ptr<OutputFile>(new OutputFile(path, {}, fd));
    }
    std::filesystem::path temporary;
    const int fd = create_temporary(target->file, temporary);
    if (fd < 0) {
        const int code = errno;
        return output_error(code, path.string() + ": cannot write the output file (creating " +
                                      temporary.string() + " failed: " + reason(code) +
                                      "); check that its folder exists and is writable");
    }
    return std::unique_ptr<OutputFile>(new OutputFile(target->file, std::move(temporary), fd));
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
    if (!temporary_.empty()) {
        ::unlink(temporary_.c_str());
    }
}

Result<void> OutputFile::write(std::span<const std::uint8_t> bytes) {
    const auto& written = temporary_.empty() ? path_ : temporary_;
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t count = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            const int code = errno;
            return output_error(code, "writing " + written.string() + " failed: " + reason(code) +
                                          "; check the free space of its file system");
        }
        done += static_cast<std::size_t>(count);
    }
    bytes_written_ += bytes.size();
    return {};
}

Result<void> OutputFile::commit() {
    const auto& written = temporary_.empty() ? path_ : temporary_;
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) {
        const int code = errno;
        discard();
        return output_error(code, path_.string() + ": cannot write the output file (closing " +
                                      written.string() + " failed: " + reason(code) +
                                      "); check the free space of its file system");
    }
    if (!temporary_.empty() && std::rename(temporary_.c_str(), path_.c_str()) != 0) {
        const int code = errno;
        discard();
        return output_error(code, path_.string() + ": cannot write: " + reason(code));
    }
    committed_ = true;
    return {};
}

}  // namespace imgbus::cli
