// SPDX-License-Identifier: MIT
// The S3 client: ObjectStore over HTTP with libcurl, which signs each request (CURLOPT_AWS_SIGV4).
// libcurl is loaded on first use (curl_library.hpp), so its calls go through the table curl_.
#include "imgbus/s3/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "crypto.hpp"
#include "curl_library.hpp"
#include "sigv4.hpp"
#include "time_format.hpp"
#include "uri.hpp"
#include "xml.hpp"

namespace imgbus::s3 {
namespace {

using store::Errc;

struct HttpResponse {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
    std::string body;
    std::string header(std::string_view name) const {
        for (const auto& [key, value] : headers) {
            if (key == name) return value;
        }
        return {};
    }
};

struct HttpRequest {
    std::string method;
    std::string path;   // encoded, starting with '/'
    std::string query;  // encoded and sorted, without '?'
    std::vector<std::string> headers;
    std::span<const std::uint8_t> body;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& response = *static_cast<HttpResponse*>(user);
    response.body.append(data, size * count);
    return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& response = *static_cast<HttpResponse*>(user);
    std::string_view line(data, size * count);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ')) value.remove_prefix(1);
        while (!value.empty() &&
               (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
            value.remove_suffix(1);
        }
        response.headers.emplace_back(std::move(name), std::string(value));
    } else if (line.starts_with("HTTP/")) {
        response.headers.clear();  // a new response (after 100 Continue)
    }
    return size * count;
}

struct UploadCursor {
    std::span<const std::uint8_t> data;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto& cursor = *static_cast<UploadCursor*>(user);
    const auto length = std::min(size * count, cursor.data.size());
    std::memcpy(buffer, cursor.data.data(), length);
    cursor.data = cursor.data.subspan(length);
    return length;
}

Error store_error(Errc errc, std::string message) {
    return store::make_error(errc, std::move(message));
}

class S3Store final : public store::ObjectStore {
  public:
    S3Store(const CurlLibrary& curl, std::string endpoint, Credentials credentials,
            ClientOptions options)
        : curl_(curl),
          endpoint_(std::move(endpoint)),
          credentials_(std::move(credentials)),
          options_(std::move(options)) {}

    Result<void> create_bucket(const std::string& bucket) override {
        auto response = send({"PUT", bucket_path(bucket), "", {}, {}});
        if (!response) return response.error();
        if (response->status == 200) return {};
        return failure(*response, "create bucket " + bucket, Errc::no_such_bucket);
    }

    Result<void> ensure_bucket(const std::string& bucket) override {
        auto created = create_bucket(bucket);
        if (!created && created.error().code == Errc::bucket_already_exists) return {};
        return created;
    }

    Result<void> delete_bucket(const std::string& bucket) override {
        auto response = send({"DELETE", bucket_path(bucket), "", {}, {}});
        if (!response) return response.error();
        if (response->status == 204 || response->status == 200) return {};
        return failure(*response, "delete bucket " + bucket, Errc::no_such_bucket);
    }

    Result<std::vector<store::BucketInfo>> list_buckets() override {
        auto response = send({"GET", "/", "", {}, {}});
        if (!response) return response.error();
        if (response->status != 200) return failure(*response, "list buckets", Errc::io_error);
        auto document = parse_xml(response->body, "ListAllMyBucketsResult", 100'000, 5);
        if (!document) return invalid_reply("list buckets", document.error());
        std::vector<store::BucketInfo> buckets;
        if (const auto* list = document->child("Buckets")) {
            for (const auto& bucket : list->children) {
                buckets.push_back(
                    {bucket.child_text("Name"), parse_iso(bucket.child_text("CreationDate"))});
            }
        }
        return buckets;
    }

    bool bucket_exists(const std::string& bucket) override {
        auto response = send({"HEAD", bucket_path(bucket), "", {}, {}});
        return response && response->status == 200;
    }

    Result<store::ObjectInfo> put_object(const std::string& bucket, const std::string& key,
                                         std::span<const std::uint8_t> data,
                                         const store::PutOptions& options) override {
        HttpRequest request{"PUT", object_path(bucket, key), "", {}, data};
        request.headers.push_back("Content-Type: " + options.content_type);
        for (const auto& [name, value] : options.metadata) {
            request.headers.push_back(fmt::format("x-amz-meta-{}: {}", name, value));
        }
        auto response = send(request);
        if (!response) return response.error();
        if (response->status != 200) {
            return failure(*response, "put " + bucket + "/" + key, Errc::no_such_bucket);
        }
        store::ObjectInfo info{bucket,
                               key,
                               data.size(),
                               strip_quotes(response->header("etag")),
                               options.content_type,
                               std::chrono::system_clock::now(),
                               options.metadata};
        return info;
    }

    Result<store::Object> get_object(const std::string& bucket, const std::string& key) override {
        auto response = send({"GET", object_path(bucket, key), "", {}, {}});
        if (!response) return response.error();
        if (response->status != 200) {
            return failure(*response, "get " + bucket + "/" + key, Errc::no_such_key);
        }
        store::Object object{info_from(*response, bucket, key), {}};
        object.data.assign(response->body.begin(), response->body.end());
        object.info.size = object.data.size();
        return object;
    }

    Result<store::ObjectInfo> head_object(const std::string& bucket,
                                          const std::string& key) override {
        auto response = send({"HEAD", object_path(bucket, key), "", {}, {}});
        if (!response) return response.error();
        if (response->status != 200) {
            return failure(*response, "head " + bucket + "/" + key, Errc::no_such_key);
        }
        return info_from(*response, bucket, key);
    }

    Result<void> delete_object(const std::string& bucket, const std::string& key) override {
        auto response = send({"DELETE", object_path(bucket, key), "", {}, {}});
        if (!response) return response.error();
        if (response->status == 204 || response->status == 200) return {};
        return failure(*response, "delete " + bucket + "/" + key, Errc::no_such_bucket);
    }

    Result<store::ListResult> list_objects(const std::string& bucket,
                                           const store::ListOptions& options) override {
        // Parameters in sorted order, already encoded, so the canonical query is the query itself.
        const auto query =
            fmt::format("list-type=2&max-keys={}&prefix={}&start-after={}",
                        std::min<std::size_t>(options.max_keys, 1000),
                        uri_encode(options.prefix, false), uri_encode(options.start_after, false));
        auto response = send({"GET", bucket_path(bucket), query, {}, {}});
        if (!response) return response.error();
        if (response->status != 200) {
            return failure(*response, "list " + bucket, Errc::no_such_bucket);
        }
        auto document = parse_xml(response->body, "ListBucketResult", 20'000, 4);
        if (!document) return invalid_reply("list " + bucket, document.error());
        store::ListResult result;
        result.truncated = document->child_text("IsTruncated") == "true";
        for (const auto& node : document->children) {
            if (node.name != "Contents") continue;
            store::ObjectInfo info;
            info.bucket = bucket;
            info.key = node.child_text("Key");
            info.etag = strip_quotes(node.child_text("ETag"));
            info.size = std::strtoull(node.child_text("Size").c_str(), nullptr, 10);
            info.last_modified = parse_iso(node.child_text("LastModified"));
            result.objects.push_back(std::move(info));
        }
        return result;
    }

  private:
    static std::string bucket_path(const std::string& bucket) {
        return "/" + uri_encode(bucket, false);
    }
    static std::string object_path(const std::string& bucket, const std::string& key) {
        return bucket_path(bucket) + "/" + uri_encode(key, true);
    }

    static std::string strip_quotes(std::string text) {
        if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
            text = text.substr(1, text.size() - 2);
        }
        return text;
    }

    static std::chrono::system_clock::time_point parse_iso(const std::string& text) {
        // "2013-05-24T00:00:00.000Z" into the amz form "20130524T000000Z".
        if (text.size() < 19) return {};
        const std::string compact = text.substr(0, 4) + text.substr(5, 2) + text.substr(8, 2) +
                                    "T" + text.substr(11, 2) + text.substr(14, 2) +
                                    text.substr(17, 2) + "Z";
        return parse_amz_date(compact).value_or(std::chrono::system_clock::time_point{});
    }

    static store::ObjectInfo info_from(const HttpResponse& response, const std::string& bucket,
                                       const std::string& key) {
        store::ObjectInfo info;
        info.bucket = bucket;
        info.key = key;
        info.etag = strip_quotes(response.header("etag"));
        info.content_type = response.header("content-type");
        info.size = std::strtoull(response.header("content-length").c_str(), nullptr, 10);
        info.last_modified = parse_http_date(response.header("last-modified"))
                                 .value_or(std::chrono::system_clock::time_point{});
        for (const auto& [name, value] : response.headers) {
            if (name.starts_with("x-amz-meta-")) info.metadata[name.substr(11)] = value;
        }
        return info;
    }

    static Error invalid_reply(const std::string& what, const Error& error) {
        return store_error(Errc::io_error,
                           what + ": the S3 reply is not valid XML: " + error.message);
    }

    // Classifies a 4xx reply without a more precise code. A rejection does not go away when the
    // request is repeated, so it is not an io_error, the only kind the worker retries. A 401, an
    // unknown key or a bad signature means wrong credentials. Another 403 means a missing
    // permission, and another 4xx a request the store does not accept. 408, 429 and S3's
    // RequestTimeout (a 400 for a slow upload) are temporary, like a 5xx.
    static Errc refusal(long status, const std::string& code) {
        if (status < 400 || status >= 500 || status == 408 || status == 429 ||
            code == "RequestTimeout") {
            return Errc::io_error;
        }
        if (status == 401 || code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId") {
            return Errc::invalid_credentials;
        }
        return status == 403 ? Errc::access_denied : Errc::invalid_request;
    }

    // Maps an S3 error reply to a store error; `not_found` is used for a 404 without a body.
    static Error failure(const HttpResponse& response, const std::string& what, Errc not_found) {
        std::string code, message;
        if (auto document = parse_xml(response.body, "Error", 100, 2)) {
            code = document->child_text("Code");
            message = document->child_text("Message");
        }
        Errc errc = Errc::io_error;
        if (code == "NoSuchBucket")
            errc = Errc::no_such_bucket;
        else if (code == "NoSuchKey")
            errc = Errc::no_such_key;
        else if (code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists")
            errc = Errc::bucket_already_exists;
        else if (code == "BucketNotEmpty")
            errc = Errc::bucket_not_empty;
        else if (code == "InvalidBucketName")
            errc = Errc::invalid_bucket_name;
        else if (code == "KeyTooLongError")
            errc = Errc::invalid_key;
        else if (code == "EntityTooLarge")
            errc = Errc::entity_too_large;
        else if (code == "MetadataTooLarge")
            errc = Errc::metadata_too_large;
        else if (code.empty() && response.status == 404)
            errc = not_found;
        else
            errc = refusal(response.status, code);
        return store_error(errc, fmt::format("S3 {} failed with HTTP {} {}: {}", what,
                                             response.status, code.empty() ? "" : code,
                                             message.empty() ? "no error document" : message));
    }

    Result<HttpResponse> send(const HttpRequest& request);

    const CurlLibrary& curl_;
    std::string endpoint_;
    Credentials credentials_;
    ClientOptions options_;
};

Result<HttpResponse> S3Store::send(const HttpRequest& request) {
    std::unique_ptr<CURL, decltype(curl_.easy_cleanup)> curl(curl_.easy_init(), curl_.easy_cleanup);
    if (!curl) return store_error(Errc::io_error, "curl_easy_init failed");
    CURL* handle = curl.get();
    HttpResponse response;
    UploadCursor cursor{request.body};
    std::string url = endpoint_ + request.path;
    if (!request.query.empty()) url += "?" + request.query;
    const std::string provider = "aws:amz:" + options_.region + ":s3";
    const std::string userpwd = credentials_.access_key + ":" + credentials_.secret_key;

    curl_slist* headers = nullptr;
    for (const auto& header : request.headers)
        headers = curl_.slist_append(headers, header.c_str());
    const std::string payload_hash =
        request.body.empty()
            ? std::string(sigv4::kEmptySha256)
            : sha256_hex({reinterpret_cast<const char*>(request.body.data()), request.body.size()});
    headers = curl_.slist_append(headers, ("x-amz-content-sha256: " + payload_hash).c_str());
    // libcurl 7.88 signs an Expect header even when it then leaves it out (empty uploads), and a
    // signed header missing from the request fails verification. So uploads send it explicitly.
    if (!request.body.empty()) {
        headers = curl_.slist_append(headers, "Expect: 100-continue");
    }
    // An empty PUT goes out as a custom request without a body, for which libcurl sends no
    // Content-Length. S3 servers (AWS, MinIO, imgbus) reject a PUT without one with 411.
    if (request.method == "PUT" && request.body.empty()) {
        headers = curl_.slist_append(headers, "Content-Length: 0");
    }
    std::unique_ptr<curl_slist, decltype(curl_.slist_free_all)> header_list(headers,
                                                                            curl_.slist_free_all);

    curl_.easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_.easy_setopt(handle, CURLOPT_AWS_SIGV4, provider.c_str());
    curl_.easy_setopt(handle, CURLOPT_USERPWD, userpwd.c_str());
    curl_.easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    // Send the key exactly as given: libcurl would otherwise resolve "." and ".." segments, so a
    // key such as "a/../../other-bucket/x" would reach another bucket instead of being refused.
    curl_.easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
    curl_.easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    // A stalled transfer is cut off, a slow one is not: less than 1 byte/s for stall_timeout
    // (which includes waiting for the reply) fails the request, and there is no total cap.
    curl_.easy_setopt(
        handle, CURLOPT_CONNECTTIMEOUT,
        static_cast<long>(std::min(options_.connect_timeout, options_.stall_timeout).count()));
    curl_.easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_.easy_setopt(handle, CURLOPT_LOW_SPEED_TIME,
                      static_cast<long>(options_.stall_timeout.count()));
    curl_.easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    curl_.easy_setopt(handle, CURLOPT_WRITEDATA, &response);
    curl_.easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    curl_.easy_setopt(handle, CURLOPT_HEADERDATA, &response);
    curl_.easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE,
                      static_cast<curl_off_t>(options_.max_object_bytes));
    if (request.method == "HEAD") {
        curl_.easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT" && request.body.empty()) {
        curl_.easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "PUT");
    } else if (request.method == "PUT") {
        curl_.easy_setopt(handle, CURLOPT_UPLOAD, 1L);
        curl_.easy_setopt(handle, CURLOPT_READFUNCTION, on_read);
        curl_.easy_setopt(handle, CURLOPT_READDATA, &cursor);
        curl_.easy_setopt(handle, CURLOPT_INFILESIZE_LARGE,
                          static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
        curl_.easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    const CURLcode code = curl_.easy_perform(handle);
    if (code == CURLE_URL_MALFORMAT) {
        return store_error(Errc::invalid_request,
                           fmt::format("the store URL '{}' is not a valid URL: {}; write "
                                       "http://HOST:PORT, with an IPv6 address in brackets "
                                       "(http://[::1]:9000)",
                                       endpoint_, curl_.easy_strerror(code)));
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
        return store_error(
            Errc::io_error,
            fmt::format("S3 {} {} timed out: no connection within {} s or no "
                        "data moved for {} s; check that the S3 server is "
                        "running, or raise --store-timeout",
                        request.method, url,
                        std::min(options_.connect_timeout, options_.stall_timeout).count(),
                        options_.stall_timeout.count()));
    }
    if (code != CURLE_OK) {
        return store_error(Errc::io_error,
                           fmt::format("S3 {} {} failed: {}; check --store and "
                                       "that the S3 server is running",
                                       request.method, url, curl_.easy_strerror(code)));
    }
    curl_.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace

Result<std::unique_ptr<store::ObjectStore>> open_s3_store(const std::string& url,
                                                          const Credentials& credentials,
                                                          ClientOptions options) {
    // A user and password in the URL would be logged with it; the message must not echo them.
    if (url.find('@') != std::string::npos) {
        return store_error(Errc::io_error,
                           "the store URL holds a user or password (text before '@'); write "
                           "http://HOST:PORT and pass the key pair with --access-key and "
                           "--secret-key or IMGBUS_ACCESS_KEY and IMGBUS_SECRET_KEY");
    }
    std::string endpoint = url;
    if (const auto question = endpoint.find('?'); question != std::string::npos) {
        const auto params = parse_query(endpoint.substr(question + 1));
        if (params) {
            if (auto region = find_param(*params, "region")) options.region = *region;
        }
        endpoint.resize(question);
    }
    if (endpoint.starts_with("s3://")) endpoint = "https://" + endpoint.substr(5);
    while (endpoint.ends_with('/')) endpoint.pop_back();
    const bool http = endpoint.starts_with("http://") || endpoint.starts_with("https://");
    const auto host = endpoint.substr(endpoint.find("//") + 2);
    if (!http || host.empty() || host.find('/') != std::string::npos) {
        return store_error(Errc::io_error,
                           fmt::format("invalid store URL '{}'; write http://HOST:PORT, "
                                       "https://HOST[:PORT] or s3://HOST[:PORT]",
                                       url));
    }
    if (credentials.access_key.empty() || credentials.secret_key.empty()) {
        return store_error(Errc::io_error,
                           "an external S3 store needs --access-key and --secret-key");
    }
    auto curl = load_curl();
    if (!curl) return curl.error();
    return std::unique_ptr<store::ObjectStore>(
        new S3Store(**curl, std::move(endpoint), credentials, std::move(options)));
}

}  // namespace imgbus::s3
