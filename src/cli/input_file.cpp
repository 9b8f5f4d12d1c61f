// SPDX-License-Identifier: MIT
#include "input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <utility>

namespace imgbus::cli {
namespace {

constexpr std::size_t kStreamChunkBytes = 64 * 1024;

// Closes the descriptor when the read is over.
struct Descriptor {
    int fd = -1;
    ~Descriptor() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

Error system_error(const std::filesystem::path& path, int code, const std::string& operation) {
    return {std::error_code(code, std::generic_category()),
            path.string() + ": " + operation + ": " + std::generic_category().message(code)};
}

// "1 GiB" for whole GiB, else the number of bytes.
std::string describe_limit(std::uint64_t max_bytes) {
    constexpr std::uint64_t kGiB = 1ull << 30;
    if (max_bytes >= kGiB && max_bytes % kGiB == 0) {
        return std::to_string(max_bytes / kGiB) + " GiB";
    }
    return std::to_string(max_bytes) + " bytes";
}

Error file_over_limit(const std::filesystem::path& path, std::uint64_t size,
                      std::uint64_t max_bytes) {
    return {std::make_error_code(std::errc::file_too_large),
            path.string() + ": file is " + std::to_string(size) + " bytes, over the " +
                describe_limit(max_bytes) + " input limit; send a smaller file"};
}

Error stream_over_limit(const std::filesystem::path& path, std::uint64_t max_bytes) {
    return {std::make_error_code(std::errc::file_too_large),
            path.string() + ": input is longer than the " + describe_limit(max_bytes) +
                " input limit; send a smaller file"};
}

// Reads until `size` bytes arrived, the end of the file or an error. Returns the bytes read, or
// -1 with errno set.
ssize_t read_fully(int fd, std::uint8_t* into, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t count = ::read(fd, into + done, size - done);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            return -1;
        }
        if (count == 0) {
            break;
        }
        done += static_cast<std::size_t>(count);
    }
    return static_cast<ssize_t>(done);
}

// A regular file of known size: one populated mapping, then one read.
Result<void> read_regular(const std::filesystem::path& path, int fd, std::size_t size,
                          imaging::PopulatedBuffer& buffer) {
    if (size == 0) {
        return {};
    }
    try {
        buffer = imaging::PopulatedBuffer(size);
    } catch (const std::bad_alloc&) {
        return system_error(path, ENOMEM,
                            "cannot allocate " + std::to_string(size) + " bytes to read it");
    }
    const ssize_t count = read_fully(fd, buffer.data(), size);
    if (count < 0) {
        return system_error(path, errno, "cannot read");
    }
    if (static_cast<std::size_t>(count) != size) {
        return Error{std::make_error_code(std::errc::io_error),
                     path.string() + ": read failed after " + std::to_string(count) + " of " +
                         std::to_string(size) + " bytes; check that the file is not being written"};
    }
    return {};
}

// A pipe, or another file of unknown size: read to its end, at most `max_bytes`.
Result<void> read_stream(const std::filesystem::path& path, int fd, std::uint64_t max_bytes,
                         std::vector<std::uint8_t>& bytes) {
    while (true) {
        const std::size_t used = bytes.size();
        bytes.resize(used + kStreamChunkBytes);
        const ssize_t count = read_fully(fd, bytes.data() + used, kStreamChunkBytes);
        if (count < 0) {
            return system_error(path, errno, "cannot read");
        }
        bytes.resize(used + static_cast<std::size_t>(count));
        if (bytes.size() > max_bytes) {
            return stream_over_limit(path, max_bytes);
        }
        if (static_cast<std::size_t>(count) < kStreamChunkBytes) {
            return {};
        }
    }
}

}  // namespace

std::span<const std::uint8_t> InputFile::bytes() const {
    if (regular_.size() > 0) {
        return {regular_.data(), regular_.size()};
    }
    return streamed_;
}

Result<InputFile> read_input_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
    Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) {
        return system_error(path, errno, "cannot read");
    }
    struct stat status {};
    if (::fstat(file.fd, &status) != 0) {
        return system_error(path, errno, "cannot read");
    }
    if (S_ISDIR(status.st_mode)) {
        return system_error(path, EISDIR, "cannot read");
    }
    InputFile input;
    // A regular file of size 0 may still have content: files under /proc report 0.
    if (!S_ISREG(status.st_mode) || status.st_size == 0) {
        auto streamed = read_stream(path, file.fd, max_bytes, input.streamed_);
        if (!streamed) {
            return streamed.error();
        }
        return input;
    }
    const auto size = static_cast<std::uint64_t>(status.st_size);
    if (size > max_bytes) {
        return file_over_limit(path, size, max_bytes);
    }
    auto read = read_regular(path, file.fd, static_cast<std::size_t>(size), input.regular_);
    if (!read) {
        return read.error();
    }
    return input;
}

}  // namespace imgbus::cli
