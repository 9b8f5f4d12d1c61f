// SPDX-License-Identifier: MIT
// The filesystem store's side of deferred ETags: computing one when a read or the backfill
// thread needs it.
#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <mutex>

#include "filesystem_store_impl.hpp"
#include "imgbus/log.hpp"
#include "text.hpp"

namespace imgbus::store {
namespace {

// Returns true once per minute of the steady clock, so that a store whose files cannot be
// written (a read-only mount) logs the lost ETag writes without a line per read.
bool allow_write_warning() {
    static std::atomic<std::int64_t> last_minute{-1};
    const auto minute = std::chrono::duration_cast<std::chrono::minutes>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    return last_minute.exchange(minute) != minute;
}

Error missing_object(const ObjectInfo& info) {
    return make_error(Errc::no_such_key, "object " + quote_for_message(info.key) +
                                             " not found in bucket '" + info.bucket + "'");
}

}  // namespace

Result<ObjectInfo> FilesystemStore::with_etag(ObjectInfo info) {
    if (!is_pending_etag(info.etag)) {
        return info;
    }
    auto path = object_path(info.bucket, info.key);
    FileHandle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file.valid()) {
        return errno == ENOENT ? Result<ObjectInfo>(missing_object(info))
                               : Result<ObjectInfo>(io_failure("open", path, errno));
    }
    auto header = read_object_header(file.get(), info.bucket, path);
    if (!header) {
        return header.error();
    }
    if (!is_pending_etag(header->info.etag)) {
        note_etag(header->info, info.etag);  // written by the backfill thread
        return std::move(header->info);
    }
    if (auto filled = fill_etag(file.get(), path, *header); !filled) {
        return filled.error();
    }
    return std::move(header->info);
}

// Runs on the backfill thread at idle priority, so it takes no store lock. It writes the MD5
// into the file only, and the next head or list copies it into the index.
void FilesystemStore::backfill_etag(const std::string& bucket, const std::string& key,
                                    const std::atomic<bool>& stopping) {
    auto path = object_path(bucket, key);
    FileHandle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file.valid()) {
        return;  // deleted since the put
    }
    auto header = read_object_header(file.get(), bucket, path);
    if (!header || !is_pending_etag(header->info.etag)) {
        return;  // a damaged file is reported by the reads, or a read computed the ETag
    }
    auto md5 =
        md5_of_file_range(file.get(), header->data_offset, header->info.size, path, &stopping);
    if (!md5) {
        return;  // the store is closing, or the file went away
    }
    if (auto replaced = replace_pending_etag(path, file.get(), header->info.etag, *md5);
        !replaced && allow_write_warning()) {
        module_logger("store")->warn("the ETag of {} stays to be computed on read: {}",
                                     quote_for_message(key), replaced.error().message);
    }
}

Result<void> FilesystemStore::fill_etag(int fd, const std::filesystem::path& path,
                                        ObjectHeader& header) {
    auto& info = header.info;
    if (!is_pending_etag(info.etag)) {
        return {};
    }
    auto md5 = md5_of_file_range(fd, header.data_offset, info.size, path);
    if (!md5) {
        return md5.error();
    }
    // A failed write only means that the next open computes the MD5 again.
    if (auto replaced = replace_pending_etag(path, fd, info.etag, *md5);
        !replaced && allow_write_warning()) {
        module_logger("store")->warn("keeping the ETag of {} in memory only: {}",
                                     quote_for_message(info.key), replaced.error().message);
    }
    const std::string pending = std::move(info.etag);
    info.etag = std::move(*md5);
    note_etag(info, pending);
    return {};
}

void FilesystemStore::note_etag(const ObjectInfo& info, const std::string& pending) {
    std::unique_lock lock(mutex_);
    auto bucket = buckets_.find(info.bucket);
    if (bucket == buckets_.end()) return;
    auto object = bucket->second.objects.find(info.key);
    if (object != bucket->second.objects.end() && object->second.etag == pending) {
        object->second.etag = info.etag;
    }
}

}  // namespace imgbus::store
