// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <random>

#include "digest.hpp"
#include "filesystem_store_impl.hpp"
#include "imgbus/log.hpp"
#include "object_writer.hpp"
#include "text.hpp"

namespace imgbus::store {

namespace {

// S3's limit on user metadata: the UTF-8 bytes of every name and value together.
constexpr std::size_t kMaxUserMetadataBytes = 2048;
constexpr std::size_t kMaxContentTypeBytes = 1024;

std::span<const std::uint8_t> as_bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string random_hex(std::size_t digits) {
    static const char* const kHex = "0123456789abcdef";
    std::random_device device;
    std::string hex;
    for (std::size_t i = 0; i < digits; ++i) {
        hex += kHex[device() & 0x0F];
    }
    return hex;
}

Result<void> check_text(const std::string& field, const std::string& text) {
    if (find_invalid_utf8(text) || text.find('\0') != std::string::npos) {
        return make_error(Errc::invalid_metadata,
                          field + " " + quote_for_message(text) +
                              " is not valid UTF-8 text; send printable UTF-8");
    }
    return {};
}

Result<void> check_put_options(const PutOptions& options) {
    if (options.content_type.size() > kMaxContentTypeBytes) {
        return make_error(Errc::metadata_too_large,
                          "the content type has " + std::to_string(options.content_type.size()) +
                              " bytes; the maximum is " + std::to_string(kMaxContentTypeBytes));
    }
    if (auto valid = check_text("content type", options.content_type); !valid) {
        return valid;
    }
    std::size_t total = 0;
    for (const auto& [name, value] : options.metadata) {
        if (auto valid = check_text("metadata name", name); !valid) {
            return valid;
        }
        if (auto valid = check_text("value of metadata " + quote_for_message(name), value);
            !valid) {
            return valid;
        }
        total += name.size() + value.size();
    }
    if (options.etag.size() > 64 ||
        options.etag.find_first_not_of("0123456789abcdef-") != std::string::npos) {
        return make_error(Errc::invalid_metadata,
                          "the ETag " + quote_for_message(options.etag) +
                              " must be at most 64 characters of lower-case hex digits and '-'");
    }
    if (total > kMaxUserMetadataBytes) {
        return make_error(Errc::metadata_too_large,
                          "the user metadata has " + std::to_string(total) +
                              " bytes of names and values; the maximum is " +
                              std::to_string(kMaxUserMetadataBytes));
    }
    return {};
}

Result<void> check_names(const std::string& bucket, const std::string& key) {
    if (auto valid = validate_bucket_name(bucket); !valid) {
        return valid;
    }
    return validate_key(key);
}

Error no_such_bucket(const std::string& bucket) {
    return make_error(Errc::no_such_bucket,
                      "bucket '" + bucket + "' does not exist; create it first");
}

Error no_such_key(const std::string& bucket, const std::string& key) {
    return make_error(Errc::no_such_key,
                      "object " + quote_for_message(key) + " not found in bucket '" + bucket + "'");
}

// Reads pieces of one object file through a descriptor opened before any later overwrite.
class FileObjectReader final : public ObjectReader {
  public:
    FileObjectReader(FileHandle file, ObjectHeader header, std::filesystem::path path)
        : file_(std::move(file)), header_(std::move(header)), path_(std::move(path)) {}

    const ObjectInfo& info() const override { return header_.info; }

    Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buffer) override {
        if (offset >= header_.info.size) {
            return std::size_t{0};
        }
        std::uint64_t available = header_.info.size - offset;
        if (buffer.size() > available) {
            buffer = buffer.first(static_cast<std::size_t>(available));
        }
        return read_at(file_.get(), header_.data_offset + offset, buffer, path_);
    }

  private:
    FileHandle file_;
    ObjectHeader header_;
    std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_filesystem_store(const std::filesystem::path& root,
                                                   const FilesystemStoreOptions& options) {
    return std::make_unique<FilesystemStore>(root, options);
}

FilesystemStore::FilesystemStore(std::filesystem::path root, FilesystemStoreOptions options)
    : root_(std::move(root)),
      temp_dir_(root_ / ".tmp"),
      options_(options),
      temp_prefix_(random_hex(16)) {
    if (options_.backfill_etags) {
        backfill_ = std::make_unique<EtagBackfill>(
            [this](const std::string& bucket, const std::string& key,
                   const std::atomic<bool>& stopping) { backfill_etag(bucket, key, stopping); });
    }
    recover();
    for (auto& [bucket, key] : recovered_pending_) {
        if (backfill_) backfill_->push(std::move(bucket), std::move(key));
    }
    recovered_pending_.clear();
}

FilesystemStore::~FilesystemStore() {
    if (backfill_) backfill_->stop();
}

Result<void> FilesystemStore::create_bucket(const std::string& bucket) {
    if (auto valid = validate_bucket_name(bucket); !valid) {
        return valid;
    }
    std::unique_lock lock(mutex_);
    if (buckets_.contains(bucket)) {
        return make_error(Errc::bucket_already_exists,
                          "bucket '" + bucket + "' already exists; use it or choose another name");
    }
    bool created = false;
    if (auto made = make_directory(bucket_dir(bucket), created); !made) {
        return made;
    }
    auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    if (auto marked = write_bucket_marker(bucket, now); !marked) {
        return marked;
    }
    buckets_[bucket].created = now;
    return options_.fsync ? fsync_directory(root_) : Result<void>{};
}

Result<void> FilesystemStore::ensure_bucket(const std::string& bucket) {
    auto created = create_bucket(bucket);
    if (!created && created.error().code == Errc::bucket_already_exists) {
        return {};
    }
    return created;
}

Result<void> FilesystemStore::delete_bucket(const std::string& bucket) {
    if (auto valid = validate_bucket_name(bucket); !valid) {
        return valid;
    }
    std::unique_lock lock(mutex_);
    auto found = buckets_.find(bucket);
    if (found == buckets_.end()) {
        return no_such_bucket(bucket);
    }
    if (!found->second.objects.empty()) {
        return make_error(Errc::bucket_not_empty, "bucket '" + bucket +
                                                      "' is not empty: it holds " +
                                                      std::to_string(found->second.objects.size()) +
                                                      " objects; delete them first");
    }
    // Only the marker, empty fan-out directories and unreadable object files can be left.
    std::error_code error;
    std::filesystem::remove_all(bucket_dir(bucket), error);
    if (error) {
        return make_error(Errc::io_error, "failed to remove " + bucket_dir(bucket).string() + ": " +
                                              error.message());
    }
    buckets_.erase(found);
    return {};
}

Result<std::vector<BucketInfo>> FilesystemStore::list_buckets() {
    std::shared_lock lock(mutex_);
    std::vector<BucketInfo> all;
    all.reserve(buckets_.size());
    for (const auto& [name, bucket] : buckets_) {
        all.push_back(BucketInfo{name, bucket.created});
    }
    return all;
}

bool FilesystemStore::bucket_exists(const std::string& bucket) {
    std::shared_lock lock(mutex_);
    return buckets_.contains(bucket);
}

Result<ObjectInfo> FilesystemStore::put_object(const std::string& bucket, const std::string& key,
                                               std::span<const std::uint8_t> data,
                                               const PutOptions& options) {
    if (auto valid = check_names(bucket, key); !valid) {
        return valid.error();
    }
    if (data.size() > options_.max_object_bytes) {
        return make_error(Errc::entity_too_large, "object " + quote_for_message(key) + " has " +
                                                      std::to_string(data.size()) +
                                                      " bytes; the maximum is " +
                                                      std::to_string(options_.max_object_bytes));
    }
    if (auto valid = check_put_options(options); !valid) {
        return valid.error();
    }
    if (!bucket_exists(bucket)) {
        return no_such_bucket(bucket);
    }

    const bool defer = options.defer_etag && options.etag.empty();
    ObjectInfo info{
        bucket,
        key,
        data.size(),
        defer ? pending_etag(temp_prefix_, ++deferred_counter_)
              : (options.etag.empty() ? md5_hex(data) : options.etag),
        options.content_type,
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()),
        options.metadata};
    std::string header = encode_object_header(info);
    auto temp = write_temp_file(as_bytes(header), data, options.sync);
    if (!temp) {
        return temp.error();
    }
    if (auto committed = commit_object(info, *temp, options.sync); !committed) {
        ::unlink(temp->c_str());
        return committed.error();
    }
    if (defer && backfill_) backfill_->push(bucket, key);
    if (defer) info.etag.clear();  // as get_object reports a deferred ETag
    return info;
}

Result<std::unique_ptr<ObjectWriter>> FilesystemStore::create_object(const std::string& bucket,
                                                                     const std::string& key,
                                                                     const PutOptions& options) {
    if (auto valid = check_names(bucket, key); !valid) {
        return valid.error();
    }
    if (auto valid = check_put_options(options); !valid) {
        return valid.error();
    }
    if (!bucket_exists(bucket)) {
        return no_such_bucket(bucket);
    }
    ObjectInfo info{bucket, key, 0, "", options.content_type, {}, options.metadata};
    return FileObjectWriter::start(*this, std::move(info), options.etag, new_temp_path(),
                                   options_.max_object_bytes, options_.fsync && options.sync);
}

Result<Object> FilesystemStore::get_object(const std::string& bucket, const std::string& key) {
    auto reader = open_version(bucket, key, false);
    if (!reader) {
        return reader.error();
    }
    Object object{(*reader)->info(), {}};
    object.data.resize(object.info.size);
    auto got = (*reader)->read(0, object.data);
    if (!got) {
        return got.error();
    }
    if (*got != object.data.size()) {
        return make_error(Errc::io_error, "object " + quote_for_message(key) + " in bucket '" +
                                              bucket + "' ended early while reading");
    }
    if (is_pending_etag(object.info.etag)) object.info.etag.clear();
    return object;
}

Result<std::unique_ptr<ObjectReader>> FilesystemStore::open_object(const std::string& bucket,
                                                                   const std::string& key) {
    return open_version(bucket, key, true);
}

Result<std::unique_ptr<ObjectReader>> FilesystemStore::open_version(const std::string& bucket,
                                                                    const std::string& key,
                                                                    bool fill_etag) {
    if (auto found = lookup(bucket, key); !found) {
        return found.error();
    }
    auto path = object_path(bucket, key);
    FileHandle file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file.valid()) {
        // A delete between the lookup and the open.
        return errno == ENOENT ? no_such_key(bucket, key) : io_failure("open", path, errno);
    }
    auto header = read_object_header(file.get(), bucket, path);
    if (!header) {
        return header.error();
    }
    if (header->info.key != key) {
        return make_error(Errc::io_error, "object file " + path.string() + " holds key " +
                                              quote_for_message(header->info.key) + ", not " +
                                              quote_for_message(key));
    }
    if (fill_etag) {
        if (auto filled = this->fill_etag(file.get(), path, *header); !filled) {
            return filled.error();
        }
    }
    return std::unique_ptr<ObjectReader>(
        new FileObjectReader(std::move(file), std::move(*header), path));
}

Result<ObjectInfo> FilesystemStore::head_object(const std::string& bucket, const std::string& key) {
    auto info = lookup(bucket, key);
    if (!info) {
        return info;
    }
    return with_etag(std::move(*info));
}

Result<void> FilesystemStore::delete_object(const std::string& bucket, const std::string& key) {
    if (auto valid = check_names(bucket, key); !valid) {
        return valid;
    }
    auto path = object_path(bucket, key);
    {
        std::unique_lock lock(mutex_);
        auto found = find_bucket(bucket);
        if (!found) {
            return found.error();
        }
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            return io_failure("delete", path, errno);
        }
        (*found)->objects.erase(key);
    }
    return options_.fsync ? fsync_directory(path.parent_path()) : Result<void>{};
}

Result<ListResult> FilesystemStore::list_objects(const std::string& bucket,
                                                 const ListOptions& options) {
    if (auto valid = validate_bucket_name(bucket); !valid) {
        return valid.error();
    }
    std::shared_lock lock(mutex_);
    auto found = find_bucket(bucket);
    if (!found) {
        return found.error();
    }
    const auto& objects = (*found)->objects;
    auto next = objects.lower_bound(options.prefix);
    if (!options.start_after.empty() && options.start_after >= options.prefix) {
        next = objects.upper_bound(options.start_after);
    }

    ListResult result;
    for (; next != objects.end() && next->first.starts_with(options.prefix); ++next) {
        if (result.objects.size() == options.max_keys) {
            result.truncated = true;
            break;
        }
        result.objects.push_back(next->second);
    }
    lock.unlock();
    std::vector<ObjectInfo> listed;
    listed.reserve(result.objects.size());
    for (auto& object : result.objects) {
        if (is_pending_etag(object.etag) && !options.fill_etags) {
            object.etag.clear();
        } else if (is_pending_etag(object.etag)) {
            // An object deleted since the index was read is left out.
            auto filled = with_etag(object);
            if (!filled && filled.error().code == Errc::no_such_key) continue;
            if (!filled) return filled.error();
            object.etag = filled->etag;
        }
        listed.push_back(std::move(object));
    }
    result.objects = std::move(listed);
    return result;
}

std::filesystem::path FilesystemStore::bucket_dir(const std::string& bucket) const {
    return root_ / bucket;
}

std::filesystem::path FilesystemStore::object_path(const std::string& bucket,
                                                   const std::string& key) const {
    std::string name = sha256_hex(key);
    return root_ / bucket / name.substr(0, 2) / name;
}

std::filesystem::path FilesystemStore::new_temp_path() {
    return temp_dir_ / (temp_prefix_ + "-" + std::to_string(++temp_counter_) + ".tmp");
}

Result<std::filesystem::path> FilesystemStore::write_temp_file(std::span<const std::uint8_t> header,
                                                               std::span<const std::uint8_t> data,
                                                               bool sync) {
    auto path = new_temp_path();
    FileHandle file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!file.valid()) {
        return io_failure("create", path, errno);
    }
    auto written = write_all(file.get(), header, path);
    if (written) {
        written = write_all(file.get(), data, path);
    }
    if (written && options_.fsync && sync && ::fsync(file.get()) != 0) {
        written = io_failure("fsync", path, errno);
    }
    if (written && file.close() != 0) {
        written = io_failure("close", path, errno);
    }
    if (!written) {
        ::unlink(path.c_str());
        return written.error();
    }
    return path;
}

// Renames the finished temporary file into place and records it in the index, both under the
// exclusive lock so that the index names the file that the last rename installed.
Result<void> FilesystemStore::commit_object(const ObjectInfo& info,
                                            const std::filesystem::path& temp, bool sync) {
    auto target = object_path(info.bucket, info.key);
    {
        std::unique_lock lock(mutex_);
        auto found = find_bucket(info.bucket);
        if (!found) {
            return found.error();
        }
        bool created = false;
        if (auto made = make_directory(target.parent_path(), created); !made) {
            return made;
        }
        if (created && options_.fsync && sync) {
            if (auto synced = fsync_directory(bucket_dir(info.bucket)); !synced) {
                return synced;
            }
        }
        if (::rename(temp.c_str(), target.c_str()) != 0) {
            return io_failure("rename " + temp.string() + " to", target, errno);
        }
        (*found)->objects[info.key] = info;
    }
    return options_.fsync && sync ? fsync_directory(target.parent_path()) : Result<void>{};
}

Result<void> FilesystemStore::make_directory(const std::filesystem::path& directory,
                                             bool& created) {
    created = ::mkdir(directory.c_str(), 0700) == 0;
    if (!created && errno != EEXIST) {
        return io_failure("create directory", directory, errno);
    }
    return {};
}

Result<FilesystemStore::Bucket*> FilesystemStore::find_bucket(const std::string& bucket) {
    auto found = buckets_.find(bucket);
    if (found == buckets_.end()) {
        return no_such_bucket(bucket);
    }
    return &found->second;
}

Result<ObjectInfo> FilesystemStore::lookup(const std::string& bucket, const std::string& key) {
    if (auto valid = check_names(bucket, key); !valid) {
        return valid.error();
    }
    std::shared_lock lock(mutex_);
    auto found = find_bucket(bucket);
    if (!found) {
        return found.error();
    }
    auto object = (*found)->objects.find(key);
    if (object == (*found)->objects.end()) {
        return no_such_key(bucket, key);
    }
    return object->second;
}

}  // namespace imgbus::store
