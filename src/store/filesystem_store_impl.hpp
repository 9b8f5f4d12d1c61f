// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "deferred_etag.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "object_file.hpp"

namespace imgbus::store {

// The ObjectStore behind open_filesystem_store(); docs/store.md describes the files.
//
// Atomic write. put_object writes header and content to a new file in <root>/.tmp, fsyncs it,
// renames it over <root>/<bucket>/<hh>/<sha256(key)> and fsyncs that directory. A reader opens
// the file once and reads header and content from the same descriptor, so it reads one whole
// version even while the key is overwritten or deleted.
//
// Lock. mutex_ guards buckets_, the in-memory index. Hashing and writing the temporary file run
// without it. The rename of a put, the unlink of a delete and the creation and removal of bucket
// directories run under the exclusive lock, so the index always names the version that the last
// rename installed: of two concurrent puts of one key, the later rename wins in both. Reads take
// the shared lock only to look up the index and open the file outside it.
class FilesystemStore final : public ObjectStore {
  public:
    FilesystemStore(std::filesystem::path root, FilesystemStoreOptions options);
    ~FilesystemStore() override;
    FilesystemStore(const FilesystemStore&) = delete;
    FilesystemStore& operator=(const FilesystemStore&) = delete;

    Result<void> create_bucket(const std::string& bucket) override;
    Result<void> ensure_bucket(const std::string& bucket) override;
    Result<void> delete_bucket(const std::string& bucket) override;
    Result<std::vector<BucketInfo>> list_buckets() override;
    bool bucket_exists(const std::string& bucket) override;

    Result<ObjectInfo> put_object(const std::string& bucket, const std::string& key,
                                  std::span<const std::uint8_t> data,
                                  const PutOptions& options) override;
    Result<std::unique_ptr<ObjectWriter>> create_object(const std::string& bucket,
                                                        const std::string& key,
                                                        const PutOptions& options) override;
    Result<Object> get_object(const std::string& bucket, const std::string& key) override;
    Result<std::unique_ptr<ObjectReader>> open_object(const std::string& bucket,
                                                      const std::string& key) override;
    Result<ObjectInfo> head_object(const std::string& bucket, const std::string& key) override;
    Result<void> delete_object(const std::string& bucket, const std::string& key) override;
    Result<ListResult> list_objects(const std::string& bucket, const ListOptions& options) override;

  private:
    friend class FileObjectWriter;  // object_writer.cpp: uses new_temp_path and commit_object

    struct Bucket {
        std::chrono::system_clock::time_point created;
        std::map<std::string, ObjectInfo> objects;  // by key; the order ListObjects returns
    };

    std::filesystem::path bucket_dir(const std::string& bucket) const;
    std::filesystem::path object_path(const std::string& bucket, const std::string& key) const;
    std::filesystem::path new_temp_path();

    // sync = false skips the fsyncs that options_.fsync requests (PutOptions::sync).
    Result<std::filesystem::path> write_temp_file(std::span<const std::uint8_t> header,
                                                  std::span<const std::uint8_t> data,
                                                  bool sync = true);
    Result<void> commit_object(const ObjectInfo& info, const std::filesystem::path& temp,
                               bool sync = true);
    Result<void> make_directory(const std::filesystem::path& directory, bool& created);
    Result<void> write_bucket_marker(const std::string& bucket,
                                     std::chrono::system_clock::time_point created);
    Result<Bucket*> find_bucket(const std::string& bucket);
    Result<ObjectInfo> lookup(const std::string& bucket, const std::string& key);
    Result<std::unique_ptr<ObjectReader>> open_version(const std::string& bucket,
                                                       const std::string& key, bool fill_etag);

    // Returns `info` when its ETag is known, else the current version of the object read from
    // its file, with the deferred ETag computed (deferred_etag.hpp).
    Result<ObjectInfo> with_etag(ObjectInfo info);
    // Computes the deferred ETag of an open object file, writes it into the file and the index,
    // and puts it in `header`.
    Result<void> fill_etag(int fd, const std::filesystem::path& path, ObjectHeader& header);
    // Computes one deferred ETag for the backfill thread and writes it into the object's file.
    void backfill_etag(const std::string& bucket, const std::string& key,
                       const std::atomic<bool>& stopping);
    // Records a computed ETag in the index, if the index still names the version it belongs to.
    void note_etag(const ObjectInfo& info, const std::string& pending);

    // Recovery on open (filesystem_store_recovery.cpp).
    void recover();
    std::size_t remove_temp_files();
    void load_bucket(const std::string& name);
    std::chrono::system_clock::time_point read_bucket_created(const std::string& name);
    void load_fan_out_dir(const std::string& bucket, const std::filesystem::path& directory,
                          Bucket& into);

    const std::filesystem::path root_;
    const std::filesystem::path temp_dir_;
    const FilesystemStoreOptions options_;
    const std::string temp_prefix_;  // random per instance, so two stores never share a name
    std::atomic<std::uint64_t> temp_counter_{0};

    std::atomic<std::uint64_t> deferred_counter_{0};
    // Objects found with a deferred ETag while opening, handed to backfill_ once the index is
    // whole.
    std::vector<std::pair<std::string, std::string>> recovered_pending_;

    std::shared_mutex mutex_;
    std::map<std::string, Bucket> buckets_;

    // Last, so that its thread stops before the members it reads are destroyed.
    std::unique_ptr<EtagBackfill> backfill_;
};

}  // namespace imgbus::store
