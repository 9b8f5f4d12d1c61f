// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <system_error>

#include "imgbus/result.hpp"

namespace imgbus::http {

// Failures of the frontend's own parsers (multipart bodies, query strings, request parameters).
enum class Errc {
    no_boundary = 1,      // Content-Type has no usable boundary parameter
    invalid_boundary,     // longer than 70 characters or with characters RFC 2046 forbids
    malformed_multipart,  // framing, part headers or Content-Disposition are invalid
    truncated_multipart,  // the body ends before the close delimiter
    too_many_parts,
    header_too_large,
    bad_parameter,           // a query or form parameter is invalid
    unsupported_media_type,  // an upload with a Content-Type the frontend does not accept
    empty_upload,            // no image bytes in the request
};

const std::error_category& http_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

}  // namespace imgbus::http

template <>
struct std::is_error_code_enum<imgbus::http::Errc> : std::true_type {};
