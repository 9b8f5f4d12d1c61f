// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace imgbus::store {

// Lowercase hex MD5 of `data`: the object's ETag, as S3 computes it for a single-part upload.
std::string md5_hex(std::span<const std::uint8_t> data);

// Lowercase hex SHA-256 of `text`: the file name of the object with that key.
std::string sha256_hex(std::string_view text);

}  // namespace imgbus::store
