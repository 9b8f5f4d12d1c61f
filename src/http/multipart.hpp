// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "imgbus/result.hpp"

namespace imgbus::http {

// One parameter of a structured header value such as `form-data; name="image"`.
struct HeaderParam {
    std::string name;   // lower case
    std::string value;  // unquoted and unescaped
};

// A header value split into its leading token (lower case) and its parameters.
struct StructuredHeader {
    std::string type;
    std::vector<HeaderParam> params;

    // The value of the named parameter (case-insensitive), or nullptr.
    const std::string* find(std::string_view name) const;
};

// Parses `type; a=b; c="quoted \" value"` as used by Content-Type and Content-Disposition.
Result<StructuredHeader> parse_structured_header(std::string_view value);

// One part of a multipart/form-data body. body points into the request body, so the request must
// outlive the part.
struct Part {
    std::string name;      // Content-Disposition name
    std::string filename;  // filename* (RFC 5987, decoded to UTF-8) wins over filename
    bool has_filename = false;
    std::string content_type;  // empty when the part has none
    std::string_view body;
};

struct MultipartLimits {
    std::size_t max_parts = 64;
    std::size_t max_header_bytes = 8 * 1024;  // all header lines of one part together
};

// Returns the boundary of a `multipart/form-data` Content-Type; fails when the type is another one
// or the boundary is missing, empty, longer than 70 characters or uses forbidden characters.
Result<std::string> multipart_boundary(std::string_view content_type);

// Splits a multipart body (RFC 7578 framing over RFC 2046) into its parts. The preamble before the
// first delimiter and the epilogue after the close delimiter are ignored. Fails on a missing close
// delimiter, on a body with no parts and when a limit is exceeded.
Result<std::vector<Part>> parse_multipart(std::string_view body, std::string_view boundary,
                                          const MultipartLimits& limits = {});

}  // namespace imgbus::http
