// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "imgbus/result.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::s3 {

struct UploadInfo {
    std::string upload_id;  // 32 lower-case hex digits
    std::string bucket;
    std::string key;
    store::PutOptions options;
    std::chrono::system_clock::time_point initiated;
};

struct PartInfo {
    int number = 0;
    std::string etag;  // hex MD5 of the part
    std::uint64_t size = 0;
    std::chrono::system_clock::time_point last_modified;
    std::filesystem::path path;
};

// A part being received into a temporary file; it replaces any earlier part of the same number
// only on commit, and the temporary file is removed when the writer is dropped uncommitted.
class PartWriter {
  public:
    PartWriter(class MultipartStore& owner, std::filesystem::path upload_dir, int number,
               std::filesystem::path temp, int fd);
    ~PartWriter();
    PartWriter(const PartWriter&) = delete;
    PartWriter& operator=(const PartWriter&) = delete;

    Result<void> write(std::span<const std::uint8_t> data);
    Result<void> commit(const std::string& etag);

  private:
    MultipartStore& owner_;
    std::filesystem::path upload_dir_;
    int number_;
    std::filesystem::path temp_;
    int fd_;
    bool committed_ = false;
};

// In-progress multipart uploads on disk: <root>/<upload-id>/upload.json describes the upload and
// part-<number>.<md5> holds each part. Upload ids are random and checked to be 32 hex digits
// before any path is built from them, so a request cannot name a path outside <root>.
class MultipartStore {
  public:
    // Creates `root` if needed; throws std::filesystem::filesystem_error when it cannot.
    explicit MultipartStore(std::filesystem::path root);

    Result<UploadInfo> create(const std::string& bucket, const std::string& key,
                              const store::PutOptions& options);
    // The upload `upload_id` of bucket/key, or NoSuchUpload.
    Result<UploadInfo> find(const std::string& upload_id, const std::string& bucket,
                            const std::string& key);
    Result<std::unique_ptr<PartWriter>> begin_part(const UploadInfo& upload, int number);
    // The parts received so far, by part number.
    Result<std::vector<PartInfo>> list_parts(const UploadInfo& upload);
    Result<void> remove(const UploadInfo& upload);
    // The uploads in progress in `bucket`, sorted by key, then initiation time.
    std::vector<UploadInfo> list_uploads(const std::string& bucket);

  private:
    friend class PartWriter;
    Result<void> install_part(const std::filesystem::path& upload_dir, int number,
                              const std::filesystem::path& temp, const std::string& etag);
    Result<UploadInfo> read_upload(const std::filesystem::path& upload_dir);

    std::filesystem::path root_;
    std::mutex mutex_;  // serialises installing a part and removing an upload
};

}  // namespace imgbus::s3
