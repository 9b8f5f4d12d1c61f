// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace imgbus::store {

// Returns the byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and
// code points above U+10FFFF are invalid), or nullopt when all of `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// Quotes `text` for an error message: control characters and invalid UTF-8 bytes become \xNN,
// and text past the first `max_bytes` bytes is cut off.
std::string quote_for_message(std::string_view text, std::size_t max_bytes = 80);

}  // namespace imgbus::store
