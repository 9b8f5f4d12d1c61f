// SPDX-License-Identifier: MIT
#include "object_reply.hpp"

#include <boost/beast/http/field.hpp>

#include "context.hpp"
#include "imgbus/store/byte_range.hpp"

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;
using Kind = store::RangeRequest::Kind;

Response object_head(Status status, const store::ObjectInfo& info, std::string_view type) {
    Response head{status, 11};
    head.set(beast_http::field::etag, "\"" + info.etag + "\"");
    head.set(beast_http::field::cache_control, "private, max-age=3600");
    head.set(beast_http::field::accept_ranges, "bytes");
    if (status != Status::not_modified) head.set(beast_http::field::content_type, type);
    return head;
}

}  // namespace

Reply object_reply(store::ObjectStore& store, const Request& request, const worker::ObjectRef& ref,
                   std::string_view fallback_type) {
    auto opened = store.open_object(ref.bucket, ref.key);
    if (!opened) return store_error_response(opened.error(), "reading " + ref.key);
    std::shared_ptr<store::ObjectReader> reader = std::move(*opened);
    const auto& info = reader->info();
    const std::string_view type = info.content_type.empty() ? fallback_type : info.content_type;

    const std::string_view if_none_match = request[beast_http::field::if_none_match];
    if (!if_none_match.empty() && store::etag_listed(if_none_match, info.etag)) {
        return object_head(Status::not_modified, info, type);
    }
    const std::string_view range_header = request[beast_http::field::range];
    const auto range = store::resolve_range(range_header, info.size);
    if (range.kind == Kind::unsatisfiable) {
        auto refused =
            error_response(Status::range_not_satisfiable, "range_not_satisfiable",
                           "the range '" + std::string(range_header.substr(0, 64)) +
                               "' lies outside the " + std::to_string(info.size) +
                               " bytes of the object; ask for bytes=0- or leave out Range");
        refused.set(beast_http::field::content_range, "bytes */" + std::to_string(info.size));
        return refused;
    }

    Reply reply{object_head(range.kind == Kind::partial ? Status::partial_content : Status::ok,
                            info, type)};
    store::ByteRange bytes{0, info.size};
    if (range.kind == Kind::partial) {
        bytes = range.bytes;
        reply.response.set(beast_http::field::content_range,
                           "bytes " + std::to_string(bytes.first) + "-" +
                               std::to_string(bytes.first + bytes.length - 1) + "/" +
                               std::to_string(info.size));
    }
    reply.response.content_length(bytes.length);
    reply.body = StreamedBody{std::move(reader), bytes.first, bytes.length};
    return reply;
}

}  // namespace imgbus::http
