// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgbus::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes. With plus_as_space, '+' becomes ' ' (form encoding, which query strings
// from some clients use). Returns nullopt for a '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space = false);

// Encodes as SigV4 requires: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex);
// '/' is kept when keep_slash is set (object key paths).
std::string uri_encode(std::string_view text, bool keep_slash);

// Splits a raw query string into decoded name/value pairs in their order. "a" and "a=" both give
// an empty value. Returns nullopt when an escape is malformed.
std::optional<QueryParams> parse_query(std::string_view raw);

// The value of the first parameter named `name`, if present.
std::optional<std::string> find_param(const QueryParams& params, std::string_view name);

// The SigV4 canonical query string: pairs encoded with uri_encode, sorted by name then value,
// joined with '&'. Parameters named `skip` (the presigned signature) are left out.
std::string canonical_query(const QueryParams& params, std::string_view skip = {});

}  // namespace imgbus::s3
