// SPDX-License-Identifier: MIT
#include "object_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace imgbus::store {

namespace {

constexpr char kMagic[8] = {'I', 'M', 'G', 'B', 'O', 'B', 'J', '\n'};
constexpr std::uint32_t kFormatVersion = 1;

using Json = nlohmann::json;
using Milliseconds = std::chrono::milliseconds;

void put_u32_le(std::string& out, std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) {
        out += static_cast<char>((value >> shift) & 0xFF);
    }
}

std::uint32_t get_u32_le(const std::uint8_t* bytes) {
    return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
           static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

Error corrupt(const std::filesystem::path& path, const std::string& reason) {
    return make_error(Errc::io_error, "object file " + path.string() + " is corrupt: " + reason);
}

bool get_string(const Json& json, const char* name, std::string& out) {
    auto field = json.find(name);
    if (field == json.end() || !field->is_string()) {
        return false;
    }
    out = field->get<std::string>();
    return true;
}

bool get_metadata(const Json& json, Metadata& out) {
    auto field = json.find("metadata");
    if (field == json.end() || !field->is_object()) {
        return false;
    }
    for (const auto& [name, value] : field->items()) {
        if (!value.is_string()) {
            return false;
        }
        out.emplace(name, value.get<std::string>());
    }
    return true;
}

Result<ObjectInfo> parse_metadata(const std::string& text, const std::string& bucket,
                                  const std::filesystem::path& path) {
    Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
        return corrupt(path, "the metadata is not a JSON object");
    }
    ObjectInfo info;
    info.bucket = bucket;
    auto size = json.find("size");
    auto modified = json.find("last_modified_ms");
    if (!get_string(json, "key", info.key) || !get_string(json, "etag", info.etag) ||
        !get_string(json, "content_type", info.content_type) ||
        !get_metadata(json, info.metadata) || size == json.end() || !size->is_number_unsigned() ||
        modified == json.end() || !modified->is_number_integer()) {
        return corrupt(path, "the metadata lacks a field or has one of the wrong type");
    }
    info.size = size->get<std::uint64_t>();
    info.last_modified = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            Milliseconds(modified->get<std::int64_t>())));
    return info;
}

}  // namespace

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

FileHandle::~FileHandle() { close(); }

int FileHandle::close() {
    if (fd_ < 0) {
        return 0;
    }
    int result = ::close(fd_);
    fd_ = -1;
    return result;
}

std::string encode_object_header(const ObjectInfo& info, std::size_t padded_json_bytes) {
    auto since_epoch =
        std::chrono::duration_cast<Milliseconds>(info.last_modified.time_since_epoch());
    Json json = {
        {"key", info.key},
        {"size", info.size},
        {"etag", info.etag},
        {"content_type", info.content_type},
        {"last_modified_ms", since_epoch.count()},
        {"metadata", info.metadata},
    };
    // The caller has checked that every string is valid UTF-8, so dump() cannot throw.
    std::string text = json.dump();
    if (text.size() < padded_json_bytes) {
        text.append(padded_json_bytes - text.size(), ' ');
    }

    std::string header(kMagic, sizeof kMagic);
    put_u32_le(header, kFormatVersion);
    put_u32_le(header, static_cast<std::uint32_t>(text.size()));
    return header + text;
}

Result<ObjectHeader> read_object_header(int fd, const std::string& bucket,
                                        const std::filesystem::path& path) {
    std::uint8_t prefix[kObjectPrefixBytes];
    auto got = read_at(fd, 0, prefix, path);
    if (!got) {
        return got.error();
    }
    if (*got != sizeof prefix || std::memcmp(prefix, kMagic, sizeof kMagic) != 0) {
        return corrupt(path, "it does not start with the object file magic");
    }
    if (std::uint32_t version = get_u32_le(prefix + 8); version != kFormatVersion) {
        return corrupt(path, "format version " + std::to_string(version) + " is not supported");
    }
    std::uint32_t json_size = get_u32_le(prefix + 12);
    if (json_size > kMaxMetadataJsonBytes) {
        return corrupt(path, "its metadata length " + std::to_string(json_size) + " is too large");
    }

    std::string text(json_size, '\0');
    got = read_at(fd, kObjectPrefixBytes,
                  std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()), path);
    if (!got) {
        return got.error();
    }
    if (*got != json_size) {
        return corrupt(path, "the metadata is truncated");
    }
    auto info = parse_metadata(text, bucket, path);
    if (!info) {
        return info.error();
    }

    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        return io_failure("stat", path, errno);
    }
    const std::uint64_t data_offset = kObjectPrefixBytes + json_size;
    if (static_cast<std::uint64_t>(status.st_size) != data_offset + info->size) {
        return corrupt(path, "the file size does not match the stored object size " +
                                 std::to_string(info->size));
    }
    return ObjectHeader{std::move(*info), data_offset};
}

Error io_failure(const std::string& action, const std::filesystem::path& path, int error_number) {
    return make_error(Errc::io_error, "failed to " + action + " " + path.string() + ": " +
                                          std::strerror(error_number));
}

Result<void> write_all(int fd, std::span<const std::uint8_t> data,
                       const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t written = ::write(fd, data.data() + done, data.size() - done);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_failure("write", path, errno);
        }
        done += static_cast<std::size_t>(written);
    }
    return {};
}

Result<std::size_t> read_at(int fd, std::uint64_t offset, std::span<std::uint8_t> buffer,
                            const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        ssize_t got = ::pread(fd, buffer.data() + done, buffer.size() - done,
                              static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_failure("read", path, errno);
        }
        if (got == 0) {
            break;
        }
        done += static_cast<std::size_t>(got);
    }
    return done;
}

Result<void> fsync_directory(const std::filesystem::path& directory) {
    FileHandle handle(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!handle.valid()) {
        return io_failure("open directory", directory, errno);
    }
    if (::fsync(handle.get()) != 0) {
        return io_failure("fsync directory", directory, errno);
    }
    return {};
}

}  // namespace imgbus::store
