// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "imgbus/store/object_store.hpp"

namespace imgbus::store {

// An object file is, in this order:
//   8 bytes   magic "IMGBOBJ\n"
//   4 bytes   format version, little-endian (1)
//   4 bytes   length N of the metadata JSON, little-endian (at most kMaxMetadataJsonBytes)
//   N bytes   metadata JSON: key, size, etag, content_type, last_modified_ms, metadata
//   size bytes  the content
// so one rename replaces the content and its metadata together.
inline constexpr std::size_t kObjectPrefixBytes = 16;
inline constexpr std::size_t kMaxMetadataJsonBytes = 64 * 1024;

// An owned POSIX file descriptor.
class FileHandle {
  public:
    FileHandle() = default;
    explicit FileHandle(int fd) : fd_(fd) {}
    FileHandle(FileHandle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileHandle& operator=(FileHandle&& other) noexcept;
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    ~FileHandle();

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    // Closes now and reports a failure, which for written files can mean lost data.
    int close();

  private:
    int fd_ = -1;
};

struct ObjectHeader {
    ObjectInfo info;
    std::uint64_t data_offset = 0;  // where the content starts in the file
};

// Serializes the prefix and metadata JSON that precede the content. With padded_json_bytes, the
// JSON is padded with trailing spaces to that length (when shorter), so that a header written
// before the content is known can be overwritten in place with the final one.
std::string encode_object_header(const ObjectInfo& info, std::size_t padded_json_bytes = 0);

// Reads and checks the header of an open object file: magic, version, JSON fields, and that the
// file size equals header plus content. `bucket` fills ObjectInfo::bucket.
Result<ObjectHeader> read_object_header(int fd, const std::string& bucket,
                                        const std::filesystem::path& path);

// An io_error naming the action, the path and the errno text.
Error io_failure(const std::string& action, const std::filesystem::path& path, int error_number);

Result<void> write_all(int fd, std::span<const std::uint8_t> data,
                       const std::filesystem::path& path);

// Reads into `buffer` from `offset` until it is full or the file ends; returns the bytes read.
Result<std::size_t> read_at(int fd, std::uint64_t offset, std::span<std::uint8_t> buffer,
                            const std::filesystem::path& path);

Result<void> fsync_directory(const std::filesystem::path& directory);

}  // namespace imgbus::store
