// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::store {

enum class Errc {
    no_such_bucket = 1,
    no_such_key,
    bucket_already_exists,
    bucket_not_empty,
    invalid_bucket_name,
    invalid_key,  // empty, too long, NUL, or a path trick
    entity_too_large,
    io_error,
    metadata_too_large,  // user metadata over 2 KiB (S3's limit) or an overlong content type
    invalid_metadata,    // a metadata name or value, or the content type, that is not valid text
    // From a remote store (the S3 client); none of these goes away when the request is repeated.
    invalid_credentials,  // the store does not know the access key or the signature is wrong
    access_denied,        // the store knows the key but refuses the request (403)
    invalid_request,      // another 4xx but 408/429, or a store URL libcurl cannot parse
};

const std::error_category& store_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

using Metadata = std::map<std::string, std::string>;

struct ObjectInfo {
    std::string bucket;
    std::string key;
    std::uint64_t size = 0;
    std::string etag;  // hex MD5 of the content, without quotes
    std::string content_type;
    std::chrono::system_clock::time_point last_modified;
    Metadata metadata;  // user metadata (x-amz-meta-* without the prefix)
};

struct Object {
    ObjectInfo info;
    std::vector<std::uint8_t> data;
};

struct PutOptions {
    std::string content_type = "application/octet-stream";
    Metadata metadata;
    // Recorded as the ETag in place of the MD5 of the content when not empty: S3 gives an object
    // assembled from a multipart upload the MD5 of its parts' MD5s followed by "-<parts>".
    std::string etag;
    // When false, this write skips the fsyncs of the file and its folder even in a store that
    // syncs (the filesystem store unless --fsync false), so a crash can lose the object. Use it
    // only for objects whose loss costs repeated work and nothing else. Other stores ignore it.
    bool sync = true;
    // When true, the filesystem store skips the MD5 at put time and computes it later: on a thread
    // at idle priority, or on the first head, open or list of the object, whichever comes first.
    // Use it for objects that are not read right away, such as uploads and job results. An
    // explicit `etag` wins. Other stores ignore it.
    bool defer_etag = false;
};

struct ListOptions {
    std::string prefix;
    std::string start_after;  // keys <= this are skipped
    std::size_t max_keys = 1000;
    // When false, a deferred ETag that is not computed yet is listed empty instead of computed,
    // for a caller that shows only some of the objects and fills those with head_object.
    bool fill_etags = true;
};

struct ListResult {
    std::vector<ObjectInfo> objects;  // sorted by key
    bool truncated = false;
};

struct BucketInfo {
    std::string name;
    std::chrono::system_clock::time_point created;
};

// Reads one stored version of an object in pieces, so that large objects need not be loaded
// whole. The version is fixed when the reader is opened: later overwrites and deletes of the key
// do not change what it reads.
class ObjectReader {
  public:
    virtual ~ObjectReader() = default;

    virtual const ObjectInfo& info() const = 0;
    // Copies up to buffer.size() bytes of content starting at `offset` and returns how many it
    // copied, which is 0 at or past the end. Safe to call from several threads at once.
    virtual Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buffer) = 0;
};

// Receives the content of a new object in pieces, so that large uploads need not be held in
// memory. Nothing is visible until commit() succeeds; destroying a writer that was not committed
// discards what it received. A writer must not outlive the store that created it.
class ObjectWriter {
  public:
    virtual ~ObjectWriter() = default;

    // Appends content. Fails with entity_too_large once the store's size limit is passed.
    virtual Result<void> write(std::span<const std::uint8_t> data) = 0;
    // Makes the object visible atomically, replacing any earlier version. Call at most once.
    virtual Result<ObjectInfo> commit() = 0;
};

// Buckets of objects addressed by key. The embedded implementation keeps them on the
// filesystem; a remote one speaks S3. All methods are thread-safe.
class ObjectStore {
  public:
    virtual ~ObjectStore() = default;

    virtual Result<void> create_bucket(const std::string& bucket) = 0;
    // Creates the bucket unless it exists; never fails with bucket_already_exists.
    virtual Result<void> ensure_bucket(const std::string& bucket) = 0;
    virtual Result<void> delete_bucket(const std::string& bucket) = 0;
    virtual Result<std::vector<BucketInfo>> list_buckets() = 0;
    virtual bool bucket_exists(const std::string& bucket) = 0;

    // Stores the object atomically: readers see the old object or the new one, never a mix.
    virtual Result<ObjectInfo> put_object(const std::string& bucket, const std::string& key,
                                          std::span<const std::uint8_t> data,
                                          const PutOptions& options = {}) = 0;
    // Starts an object whose content arrives through the returned writer (S3 uploads of any
    // size). Names and options are checked here; the bucket is checked again on commit. The
    // default implementation collects the content in memory and calls put_object.
    virtual Result<std::unique_ptr<ObjectWriter>> create_object(const std::string& bucket,
                                                                const std::string& key,
                                                                const PutOptions& options = {});
    // Reads a whole object. Its info.etag is empty when the ETag was deferred and not computed
    // yet (PutOptions::defer_etag); head_object, open_object and list_objects always fill it.
    virtual Result<Object> get_object(const std::string& bucket, const std::string& key) = 0;
    // Opens the current version of an object for reading in pieces (S3 Range requests, streaming
    // large objects). The default implementation loads it with get_object.
    virtual Result<std::unique_ptr<ObjectReader>> open_object(const std::string& bucket,
                                                              const std::string& key);
    virtual Result<ObjectInfo> head_object(const std::string& bucket, const std::string& key) = 0;
    // Deleting a missing key succeeds, as in S3.
    virtual Result<void> delete_object(const std::string& bucket, const std::string& key) = 0;
    virtual Result<ListResult> list_objects(const std::string& bucket,
                                            const ListOptions& options = {}) = 0;
};

// Checks an object key: 1..1024 bytes of valid UTF-8, no NUL, no "." or ".." segment, no
// leading "/".
Result<void> validate_key(const std::string& key);
// Checks a bucket name against S3's rules: 3..63 of [a-z0-9.-], starting and ending with a
// letter or digit, no "..", not an IPv4 address.
Result<void> validate_bucket_name(const std::string& bucket);

}  // namespace imgbus::store

template <>
struct std::is_error_code_enum<imgbus::store::Errc> : std::true_type {};
