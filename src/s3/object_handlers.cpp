// SPDX-License-Identifier: MIT
// PutObject, GetObject, HeadObject, DeleteObject and CopyObject, and the helpers they share with
// the multipart handlers.
#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "handlers.hpp"
#include "imgbus/s3/error.hpp"
#include "imgbus/store/byte_range.hpp"
#include "time_format.hpp"
#include "xml.hpp"

namespace imgbus::s3 {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";
constexpr std::size_t kMaxMetadataBytes = 2048;  // S3's limit on user metadata

// The status a conditional GET or HEAD gets instead of the object (304 or 412), or 0.
unsigned check_conditions(const HeaderList& headers, const store::ObjectInfo& info) {
    using std::chrono::floor;
    using std::chrono::seconds;
    const auto modified = floor<seconds>(info.last_modified);
    if (auto match = header_value(headers, "if-match"); !match.empty()) {
        if (!store::etag_listed(match, info.etag)) return 412;
    } else if (auto since = parse_http_date(header_value(headers, "if-unmodified-since"))) {
        if (modified > *since) return 412;
    }
    if (auto none = header_value(headers, "if-none-match"); !none.empty()) {
        if (store::etag_listed(none, info.etag)) return 304;
    } else if (auto since = parse_http_date(header_value(headers, "if-modified-since"))) {
        if (modified <= *since) return 304;
    }
    return 0;
}

// response-content-type and its siblings let a presigned URL choose response headers.
void apply_response_overrides(const QueryParams& query, HeaderList& headers) {
    static constexpr std::pair<std::string_view, std::string_view> kOverrides[] = {
        {"response-content-type", "content-type"},
        {"response-content-disposition", "content-disposition"},
        {"response-content-encoding", "content-encoding"},
        {"response-content-language", "content-language"},
        {"response-cache-control", "cache-control"},
        {"response-expires", "expires"},
    };
    for (const auto& [param, header] : kOverrides) {
        if (auto value = find_param(query, param)) {
            std::erase_if(headers, [&](const auto& h) { return h.first == header; });
            headers.emplace_back(header, *value);
        }
    }
}

struct CopySource {
    std::string bucket;
    std::string key;
};

Result<CopySource> parse_copy_source(std::string_view header) {
    auto text = header.substr(0, header.find('?'));
    auto decoded = percent_decode(text);
    if (!decoded) {
        return make_error(Errc::invalid_argument, "x-amz-copy-source has a malformed % escape");
    }
    std::string_view path = *decoded;
    if (path.starts_with('/')) path.remove_prefix(1);
    const auto slash = path.find('/');
    if (slash == std::string_view::npos || slash + 1 == path.size()) {
        return make_error(Errc::invalid_argument,
                          "x-amz-copy-source must be BUCKET/KEY, URL-encoded");
    }
    CopySource source{std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
    if (auto valid = store::validate_bucket_name(source.bucket); !valid) {
        return make_error(Errc::invalid_bucket_name, valid.error().message);
    }
    if (auto valid = store::validate_key(source.key); !valid) {
        return to_s3_error(valid.error());
    }
    return source;
}

Result<store::ObjectInfo> copy_content(HandlerContext& context, const CopySource& source,
                                       const std::string& bucket, const std::string& key,
                                       const store::PutOptions& options) {
    auto reader = context.store.open_object(source.bucket, source.key);
    if (!reader) return reader.error();
    auto writer = context.store.create_object(bucket, key, options);
    if (!writer) return writer.error();
    std::vector<std::uint8_t> piece(1 << 20);
    for (std::uint64_t offset = 0;;) {
        auto read = (*reader)->read(offset, piece);
        if (!read) return read.error();
        if (*read == 0) break;
        if (auto written = (*writer)->write(std::span(piece).first(*read)); !written) {
            return written.error();
        }
        offset += *read;
    }
    return (*writer)->commit();
}

}  // namespace

void HandlerContext::count(const char* op) const {
    if (metrics) metrics->store_requests_total(op).Increment();
}

void HandlerContext::count_read(std::uint64_t bytes) const {
    if (metrics) metrics->store_read_bytes_total().Increment(static_cast<double>(bytes));
}

void HandlerContext::count_written(std::uint64_t bytes) const {
    if (metrics) metrics->store_written_bytes_total().Increment(static_cast<double>(bytes));
}

std::string quote_etag(const std::string& etag) { return "\"" + etag + "\""; }

Result<store::PutOptions> put_options_from_headers(const HeaderList& headers) {
    store::PutOptions options;
    if (auto type = header_value(headers, "content-type"); !type.empty()) {
        options.content_type = std::string(type);
    }
    std::size_t total = 0;
    for (const auto& [name, value] : headers) {
        if (!name.starts_with(kMetaPrefix)) continue;
        const auto meta_name = name.substr(kMetaPrefix.size());
        auto& slot = options.metadata[meta_name];
        slot = slot.empty() ? value : slot + "," + value;
        total += meta_name.size() + value.size();
    }
    if (total > kMaxMetadataBytes) {
        return make_error(
            Errc::metadata_too_large,
            fmt::format("the x-amz-meta-* headers have {} bytes; S3 allows 2048", total));
    }
    return options;
}

HeaderList object_headers(const store::ObjectInfo& info) {
    HeaderList headers{{"etag", quote_etag(info.etag)},
                       {"last-modified", format_http_date(info.last_modified)},
                       {"content-type", info.content_type},
                       {"accept-ranges", "bytes"}};
    for (const auto& [name, value] : info.metadata) {
        headers.emplace_back(std::string(kMetaPrefix) + name, value);
    }
    return headers;
}

awaitable<Result<store::ObjectInfo>> receive_object(HandlerContext& context, Exchange& exchange,
                                                    store::ObjectWriter& writer) {
    const auto limit = context.options.max_object_bytes;
    if (!exchange.content_length && !has_header(exchange.headers, "transfer-encoding")) {
        co_return make_error(Errc::missing_content_length,
                             "send a Content-Length header with the object size");
    }
    if (exchange.content_length && *exchange.content_length > limit) {
        co_return make_error(Errc::entity_too_large,
                             fmt::format("the object has {} bytes; the limit is {}",
                                         *exchange.content_length, limit));
    }
    std::vector<std::uint8_t> piece(context.options.io_buffer_bytes);
    std::uint64_t total = 0;
    while (true) {
        auto received = co_await exchange.read_body(piece);
        if (!received) co_return received.error();
        if (*received == 0) break;
        total += *received;
        if (total > limit) {
            co_return make_error(
                Errc::entity_too_large,
                fmt::format("the object is larger than the limit of {} bytes", limit));
        }
        if (auto written = writer.write(std::span(piece).first(*received)); !written) {
            co_return written.error();
        }
    }
    // The commit fsyncs the file and its folder: on the blocking pool, so that a slow disk does
    // not stall the other connections of this I/O thread.
    auto committed = co_await run_blocking(context, [&writer] { return writer.commit(); });
    if (committed) context.count_written(total);
    co_return committed;
}

awaitable<void> put_object(HandlerContext& context, Exchange& exchange) {
    context.count("put");
    auto options = put_options_from_headers(exchange.headers);
    if (!options) co_return co_await exchange.send_error(options.error());
    auto writer = context.store.create_object(exchange.bucket, exchange.key, *options);
    if (!writer) co_return co_await exchange.send_error(writer.error());
    auto stored = co_await receive_object(context, exchange, **writer);
    if (!stored) co_return co_await exchange.send_error(stored.error());
    const HeaderList headers{{"etag", quote_etag(stored->etag)}};
    co_await exchange.send(200, headers, std::string());
}

awaitable<void> get_object(HandlerContext& context, Exchange& exchange, bool head_only) {
    context.count(head_only ? "head" : "get");
    // Off the I/O thread: the open may compute a deferred ETag (docs/store.md).
    auto reader = co_await run_blocking(
        context, [&] { return context.store.open_object(exchange.bucket, exchange.key); });
    if (!reader) co_return co_await exchange.send_error(reader.error());
    const auto& info = (*reader)->info();
    auto headers = object_headers(info);
    if (const auto status = check_conditions(exchange.headers, info); status != 0) {
        if (status == 304) {
            co_return co_await exchange.send(304, headers, std::string());
        }
        co_return co_await exchange.send_error(
            make_error(Errc::precondition_failed,
                       "at least one of the preconditions you specified did not "
                       "hold"));
    }
    const auto range = store::resolve_range(header_value(exchange.headers, "range"), info.size);
    using Kind = store::RangeRequest::Kind;
    if (range.kind == Kind::unsatisfiable) {
        const HeaderList range_headers{{"content-range", fmt::format("bytes */{}", info.size)}};
        co_return co_await exchange.send_error(
            make_error(
                Errc::invalid_range,
                fmt::format("the range '{}' is outside the object's {} bytes",
                            header_value(exchange.headers, "range").substr(0, 64), info.size)),
            range_headers);
    }
    apply_response_overrides(exchange.query, headers);
    unsigned status = 200;
    store::ByteRange bytes{0, info.size};
    if (range.kind == Kind::partial) {
        bytes = range.bytes;
        status = 206;
        headers.emplace_back(
            "content-range",
            fmt::format("bytes {}-{}/{}", bytes.first, bytes.first + bytes.length - 1, info.size));
    }
    co_await exchange.send_object(status, headers, **reader, bytes.first, bytes.length, head_only);
    context.count_read(head_only ? 0 : exchange.bytes_sent());
}

awaitable<void> delete_object(HandlerContext& context, Exchange& exchange) {
    context.count("delete");
    if (auto deleted = context.store.delete_object(exchange.bucket, exchange.key); !deleted) {
        co_return co_await exchange.send_error(deleted.error());
    }
    co_await exchange.send(204, {}, std::string());
}

awaitable<void> copy_object(HandlerContext& context, Exchange& exchange) {
    context.count("put");
    auto source = parse_copy_source(header_value(exchange.headers, "x-amz-copy-source"));
    if (!source) co_return co_await exchange.send_error(source.error());
    // Off the I/O thread: the source's ETag may be deferred (docs/store.md).
    auto source_info = co_await run_blocking(
        context, [&] { return context.store.head_object(source->bucket, source->key); });
    if (!source_info) co_return co_await exchange.send_error(source_info.error());

    const bool replace = header_value(exchange.headers, "x-amz-metadata-directive") == "REPLACE";
    store::PutOptions options{source_info->content_type, source_info->metadata};
    if (replace) {
        auto requested = put_options_from_headers(exchange.headers);
        if (!requested) co_return co_await exchange.send_error(requested.error());
        options = std::move(*requested);
    } else if (source->bucket == exchange.bucket && source->key == exchange.key) {
        co_return co_await exchange.send_error(
            make_error(Errc::invalid_request,
                       "this copy request is illegal because it copies an object to itself without "
                       "changing its metadata; send x-amz-metadata-directive: REPLACE"));
    }
    auto copied = co_await run_blocking(context, [&] {
        return copy_content(context, *source, exchange.bucket, exchange.key, options);
    });
    if (!copied) co_return co_await exchange.send_error(copied.error());
    context.count_written(copied->size);
    XmlWriter xml;
    xml.open("CopyObjectResult", true)
        .element("LastModified", format_iso8601(copied->last_modified))
        .element("ETag", quote_etag(copied->etag));
    co_await exchange.send(200, {}, xml.finish());
}

}  // namespace imgbus::s3
