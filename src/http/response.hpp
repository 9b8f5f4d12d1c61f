// SPDX-License-Identifier: MIT
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "imgbus/result.hpp"

namespace imgbus::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;

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
