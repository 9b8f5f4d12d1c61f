// SPDX-License-Identifier: MIT
// ListObjects (v1) and ListObjectsV2: prefix, delimiter with CommonPrefixes, max-keys, marker,
// start-after and continuation tokens.
#include <fmt/format.h>

#include <charconv>

#include "handlers.hpp"
#include "imgbus/s3/error.hpp"
#include "time_format.hpp"
#include "xml.hpp"

namespace imgbus::s3 {
namespace {

constexpr std::size_t kMaxKeys = 1000;
// Above every byte of valid UTF-8, which the store requires of keys: appending it to a common
// prefix gives a marker past every key that starts with that prefix.
constexpr char kPastPrefix = '\xff';

struct ListRequest {
    std::string prefix;
    std::string delimiter;
    std::string marker;  // list keys after this one
    std::size_t max_keys = kMaxKeys;
    bool url_encoding = false;
};

struct Listing {
    std::vector<store::ObjectInfo> objects;
    std::vector<std::string> prefixes;
    bool truncated = false;
    std::string next_marker;
};

Result<ListRequest> parse_list_request(const QueryParams& query) {
    ListRequest request;
    request.prefix = find_param(query, "prefix").value_or("");
    request.delimiter = find_param(query, "delimiter").value_or("");
    if (auto max = find_param(query, "max-keys")) {
        long long value = -1;
        const auto [end, error] = std::from_chars(max->data(), max->data() + max->size(), value);
        if (error != std::errc() || end != max->data() + max->size() || value < 0) {
            return make_error(
                Errc::invalid_argument,
                fmt::format("max-keys '{}' must be a number from 0 to 1000", max->substr(0, 32)));
        }
        request.max_keys = static_cast<std::size_t>(std::min<long long>(value, kMaxKeys));
    }
    if (auto encoding = find_param(query, "encoding-type")) {
        if (*encoding != "url") {
            return make_error(Errc::invalid_argument,
                              fmt::format("encoding-type '{}' is invalid; the only value is url",
                                          encoding->substr(0, 32)));
        }
        request.url_encoding = true;
    }
    return request;
}

// Adds one key to the listing, rolled up into its common prefix when the delimiter occurs after
// the prefix. Returns the marker to continue the store scan from.
std::string add_entry(const ListRequest& request, const store::ObjectInfo& object,
                      Listing& listing) {
    if (!request.delimiter.empty()) {
        const auto at = object.key.find(request.delimiter, request.prefix.size());
        if (at != std::string::npos) {
            auto common = object.key.substr(0, at + request.delimiter.size());
            if (request.marker.empty() || common > request.marker) {
                listing.prefixes.push_back(common);
                listing.next_marker = common;
            }
            return common + kPastPrefix;
        }
    }
    listing.objects.push_back(object);
    listing.next_marker = object.key;
    return object.key;
}

Result<Listing> collect_keys(store::ObjectStore& store, const std::string& bucket,
                             const ListRequest& request) {
    Listing listing;
    if (request.max_keys == 0) return listing;
    std::string after = request.marker;
    while (true) {
        store::ListOptions options{request.prefix, after, kMaxKeys, false};
        auto page = store.list_objects(bucket, options);
        if (!page) return page.error();
        bool restart = false;
        for (const auto& object : page->objects) {
            if (listing.objects.size() + listing.prefixes.size() == request.max_keys) {
                listing.truncated = true;
                return listing;
            }
            after = add_entry(request, object, listing);
            if (after.back() == kPastPrefix) {
                restart = true;  // skip the rest of this common prefix
                break;
            }
        }
        if (!restart && !page->truncated) return listing;
    }
}

// Lists the page, then computes the deferred ETags of the objects it shows, and of no others.
// An object deleted in between is left out, as a listing taken a moment later would show.
Result<Listing> collect(store::ObjectStore& store, const std::string& bucket,
                        const ListRequest& request) {
    auto listing = collect_keys(store, bucket, request);
    if (!listing) return listing;
    std::vector<store::ObjectInfo> listed_objects;
    listed_objects.reserve(listing->objects.size());
    for (auto& object : listing->objects) {
        if (object.etag.empty()) {
            auto head = store.head_object(bucket, object.key);
            if (!head && head.error().code == store::Errc::no_such_key) continue;
            if (!head) return head.error();
            object.etag = head->etag;
        }
        listed_objects.push_back(std::move(object));
    }
    listing->objects = std::move(listed_objects);
    return listing;
}

std::string encode(const ListRequest& request, const std::string& text) {
    return request.url_encoding ? uri_encode(text, true) : text;
}

void write_contents(XmlWriter& xml, const ListRequest& request, const Listing& listing,
                    bool with_owner) {
    for (const auto& object : listing.objects) {
        xml.open("Contents")
            .element("Key", encode(request, object.key))
            .element("LastModified", format_iso8601(object.last_modified))
            .element("ETag", quote_etag(object.etag))
            .element("Size", object.size)
            .element("StorageClass", "STANDARD");
        if (with_owner) {
            xml.open("Owner").element("ID", "imgbus").element("DisplayName", "imgbus").close();
        }
        xml.close();
    }
    for (const auto& prefix : listing.prefixes) {
        xml.open("CommonPrefixes").element("Prefix", encode(request, prefix)).close();
    }
}

Result<std::string> decode_token(const std::string& token) {
    auto bytes = base64_decode(token);
    if (!bytes) {
        return make_error(Errc::invalid_argument, "the continuation token provided is incorrect");
    }
    return std::string(bytes->begin(), bytes->end());
}

std::string encode_token(const std::string& marker) {
    return base64_encode({reinterpret_cast<const std::uint8_t*>(marker.data()), marker.size()});
}

}  // namespace

awaitable<void> list_objects(HandlerContext& context, Exchange& exchange, bool version2) {
    context.count("list");
    auto request = parse_list_request(exchange.query);
    if (!request) co_return co_await exchange.send_error(request.error());
    const auto token = find_param(exchange.query, "continuation-token");
    const auto start_after = find_param(exchange.query, "start-after");
    if (version2 && token) {
        auto marker = decode_token(*token);
        if (!marker) co_return co_await exchange.send_error(marker.error());
        request->marker = std::move(*marker);
    } else if (version2) {
        request->marker = start_after.value_or("");
    } else {
        request->marker = find_param(exchange.query, "marker").value_or("");
    }
    // Off the I/O thread: the listing may compute deferred ETags (docs/store.md).
    auto listing = co_await run_blocking(
        context, [&] { return collect(context.store, exchange.bucket, *request); });
    if (!listing) co_return co_await exchange.send_error(listing.error());

    XmlWriter xml;
    xml.open("ListBucketResult", true)
        .element("Name", exchange.bucket)
        .element("Prefix", encode(*request, request->prefix));
    if (version2) {
        if (token) xml.element("ContinuationToken", *token);
        if (start_after) xml.element("StartAfter", encode(*request, *start_after));
        xml.element("KeyCount", listing->objects.size() + listing->prefixes.size());
        if (listing->truncated) {
            xml.element("NextContinuationToken", encode_token(listing->next_marker));
        }
    } else {
        xml.element("Marker", encode(*request, request->marker));
        if (listing->truncated) xml.element("NextMarker", encode(*request, listing->next_marker));
    }
    xml.element("MaxKeys", request->max_keys);
    if (!request->delimiter.empty()) xml.element("Delimiter", encode(*request, request->delimiter));
    if (request->url_encoding) xml.element("EncodingType", "url");
    xml.element("IsTruncated", listing->truncated ? "true" : "false");
    write_contents(xml, *request, *listing, !version2);
    co_await exchange.send(200, {}, xml.finish());
}

}  // namespace imgbus::s3
