// SPDX-License-Identifier: MIT
// The filesystem store's side of deferred ETags: computing one when a read needs it.
#include <fcntl.h>

#include <cerrno>
#include <mutex>

#include "filesystem_store_impl.hpp"
#include "imgbus/log.hpp"
#include "text.hpp"

namespace imgbus::store {

Result<ObjectInfo> FilesystemStore::with_etag(ObjectInfo info) {
    if (!is_pending_etag(info.etag)) {
        return info;
    }
    auto path = object_path(info.bucket, info.key);
    FileHandle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file.valid()) {
        if (errno != ENOENT) return io_failure("open", path, errno);
        return make_error(Errc::no_such_key, "object " + quote_for_message(info.key) +
                                                 " not found in bucket '" + info.bucket + "'");
    }
    auto header = read_object_header(file.get(), info.bucket, path);
    if (!header) {
        return header.error();
    }
    if (auto filled = fill_etag(file.get(), path, *header); !filled) {
        return filled.error();
    }
    return std::move(header->info);
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
    // A failed write only means that the next read computes the MD5 again.
    if (auto replaced = replace_pending_etag(path, fd, info.etag, *md5); !replaced) {
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
