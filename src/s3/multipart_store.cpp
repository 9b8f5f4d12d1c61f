// SPDX-License-Identifier: MIT
#include "multipart_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto.hpp"
#include "imgbus/s3/error.hpp"

namespace imgbus::s3 {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kPartPrefix = "part-";
constexpr std::size_t kMaxUploadJson = 64 * 1024;

bool is_upload_id(const std::string& id) {
    return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string random_hex(std::size_t bytes) {
    std::vector<std::uint8_t> raw(bytes);
    random_bytes(raw);
    return to_hex(raw);
}

Error io_error(const std::string& action, const fs::path& path, int error_number) {
    return make_error(Errc::internal_error, fmt::format("cannot {} {}: {}", action, path.string(),
                                                        std::strerror(error_number)));
}

Error no_such_upload(const std::string& id) {
    return make_error(Errc::no_such_upload,
                      fmt::format("the upload id '{}' does not exist; it may have been completed "
                                  "or aborted",
                                  id.substr(0, 64)));
}

std::string part_prefix(int number) { return fmt::format("{}{:05}.", kPartPrefix, number); }

std::chrono::system_clock::time_point to_system(fs::file_time_type time) {
    return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        time - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
}

nlohmann::json upload_json(const UploadInfo& upload) {
    return {{"bucket", upload.bucket},
            {"key", upload.key},
            {"content_type", upload.options.content_type},
            {"metadata", upload.options.metadata},
            {"initiated_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 upload.initiated.time_since_epoch())
                                 .count()}};
}

}  // namespace

PartWriter::PartWriter(MultipartStore& owner, fs::path upload_dir, int number, fs::path temp,
                       int fd)
    : owner_(owner),
      upload_dir_(std::move(upload_dir)),
      number_(number),
      temp_(std::move(temp)),
      fd_(fd) {}

PartWriter::~PartWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
        std::error_code ignored;
        fs::remove(temp_, ignored);
    }
}

Result<void> PartWriter::write(std::span<const std::uint8_t> data) {
    while (!data.empty()) {
        const auto written = ::write(fd_, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return io_error("write", temp_, errno);
        }
        data = data.subspan(static_cast<std::size_t>(written));
    }
    return {};
}

Result<void> PartWriter::commit(const std::string& etag) {
    if (::close(std::exchange(fd_, -1)) != 0) {
        return io_error("close", temp_, errno);
    }
    if (auto installed = owner_.install_part(upload_dir_, number_, temp_, etag); !installed) {
        return installed;
    }
    committed_ = true;
    return {};
}

MultipartStore::MultipartStore(fs::path root) : root_(std::move(root)) {
    fs::create_directories(root_);
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::replace);
}

Result<UploadInfo> MultipartStore::create(const std::string& bucket, const std::string& key,
                                          const store::PutOptions& options) {
    UploadInfo upload{random_hex(16), bucket, key, options, std::chrono::system_clock::now()};
    const fs::path dir = root_ / upload.upload_id;
    std::error_code error;
    if (!fs::create_directory(dir, error)) {
        return io_error("create", dir, error ? error.value() : EEXIST);
    }
    std::ofstream out(dir / "upload.json", std::ios::binary | std::ios::trunc);
    out << upload_json(upload).dump();
    out.close();
    if (!out) {
        fs::remove_all(dir, error);
        return io_error("write", dir / "upload.json", EIO);
    }
    return upload;
}

Result<UploadInfo> MultipartStore::read_upload(const fs::path& dir) {
    std::ifstream in(dir / "upload.json", std::ios::binary);
    std::string text(kMaxUploadJson, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (!in.eof() || json.is_discarded() || !json.is_object()) {
        return no_such_upload(dir.filename().string());
    }
    try {
        UploadInfo upload;
        upload.upload_id = dir.filename().string();
        upload.bucket = json.at("bucket").get<std::string>();
        upload.key = json.at("key").get<std::string>();
        upload.options.content_type = json.at("content_type").get<std::string>();
        upload.options.metadata = json.at("metadata").get<store::Metadata>();
        upload.initiated = std::chrono::system_clock::time_point(
            std::chrono::milliseconds(json.at("initiated_ms").get<std::int64_t>()));
        return upload;
    } catch (const nlohmann::json::exception&) {
        return no_such_upload(dir.filename().string());
    }
}

Result<UploadInfo> MultipartStore::find(const std::string& upload_id, const std::string& bucket,
                                        const std::string& key) {
    if (!is_upload_id(upload_id)) {
        return no_such_upload(upload_id);
    }
    auto upload = read_upload(root_ / upload_id);
    if (!upload || upload->bucket != bucket || upload->key != key) {
        return no_such_upload(upload_id);
    }
    return upload;
}

Result<std::unique_ptr<PartWriter>> MultipartStore::begin_part(const UploadInfo& upload,
                                                               int number) {
    const fs::path dir = root_ / upload.upload_id;
    const fs::path temp = dir / ("tmp-" + random_hex(8));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno == ENOENT ? no_such_upload(upload.upload_id) : io_error("create", temp, errno);
    }
    return std::make_unique<PartWriter>(*this, dir, number, temp, fd);
}

Result<void> MultipartStore::install_part(const fs::path& dir, int number, const fs::path& temp,
                                          const std::string& etag) {
    std::lock_guard lock(mutex_);
    const auto prefix = part_prefix(number);
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.path().filename().string().starts_with(prefix)) {
            fs::remove(entry.path(), error);
        }
    }
    const fs::path target = dir / (prefix + etag);
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        return errno == ENOENT ? no_such_upload(dir.filename().string())
                               : io_error("rename", temp, errno);
    }
    return {};
}

Result<std::vector<PartInfo>> MultipartStore::list_parts(const UploadInfo& upload) {
    const fs::path dir = root_ / upload.upload_id;
    std::vector<PartInfo> parts;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        const auto name = entry.path().filename().string();
        if (!name.starts_with(kPartPrefix) || name.size() != kPartPrefix.size() + 6 + 32) {
            continue;
        }
        PartInfo part;
        part.number = std::stoi(name.substr(kPartPrefix.size(), 5));
        part.etag = name.substr(kPartPrefix.size() + 6);
        part.size = entry.file_size(error);
        part.last_modified = to_system(entry.last_write_time(error));
        part.path = entry.path();
        parts.push_back(std::move(part));
    }
    if (error) {
        return no_such_upload(upload.upload_id);
    }
    std::sort(parts.begin(), parts.end(),
              [](const PartInfo& a, const PartInfo& b) { return a.number < b.number; });
    return parts;
}

Result<void> MultipartStore::remove(const UploadInfo& upload) {
    std::lock_guard lock(mutex_);
    std::error_code error;
    fs::remove_all(root_ / upload.upload_id, error);
    if (error) {
        return io_error("remove", root_ / upload.upload_id, error.value());
    }
    return {};
}

std::vector<UploadInfo> MultipartStore::list_uploads(const std::string& bucket) {
    std::vector<UploadInfo> uploads;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(root_, error)) {
        if (!is_upload_id(entry.path().filename().string())) continue;
        auto upload = read_upload(entry.path());
        if (upload && upload->bucket == bucket) {
            uploads.push_back(std::move(*upload));
        }
    }
    std::sort(uploads.begin(), uploads.end(), [](const UploadInfo& a, const UploadInfo& b) {
        return std::tie(a.key, a.initiated) < std::tie(b.key, b.initiated);
    });
    return uploads;
}

}  // namespace imgbus::s3
