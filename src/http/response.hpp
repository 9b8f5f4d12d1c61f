// SPDX-License-Identifier: MIT
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "imgbus/result.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;

// A response body that the session copies from the store to the socket in bounded pieces after
// the header, so that a large object never sits in memory and a slow reader costs one piece.
struct StreamedBody {
    std::shared_ptr<store::ObjectReader> reader;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

// The result of a handler: a whole response, or a header whose body is streamed. With `body`,
// response carries the headers and its own body stays empty.
struct Reply {
    Reply() = default;
    Reply(Response whole) : response(std::move(whole)) {}  // NOLINT: implicit on purpose
    Response response;
    std::optional<StreamedBody> body;
};

// Serializes JSON for a response; invalid UTF-8 from a client (a filename, say) becomes U+FFFD
// instead of throwing.
std::string dump_json(const nlohmann::json& value);

Response make_response(Status status, std::string body, std::string_view content_type);
Response json_response(Status status, const nlohmann::json& value);
// The error body of docs/api.md: {"error": code, "message": message}.
Response error_response(Status status, std::string_view code, std::string_view message);
// 503 with Retry-After, for back-pressure.
Response unavailable_response(std::string_view code, std::string_view message, int retry_after_s);

}  // namespace imgbus::http
