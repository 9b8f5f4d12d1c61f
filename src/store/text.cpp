// SPDX-License-Identifier: MIT
#include "text.hpp"

#include <cstdint>

namespace imgbus::store {

namespace {

// Returns the length of the valid UTF-8 sequence at `at`, or 0 when it is invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
    const std::uint8_t lead = byte(at);
    if (lead < 0x80) {
        return 1;
    }

    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        code_point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        code_point = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        code_point = lead & 0x07;
    } else {
        return 0;  // a continuation byte, an overlong 2-byte lead (C0, C1) or F5..FF
    }
    if (at + length > text.size()) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(at + i) & 0xC0) != 0x80) {
            return 0;
        }
        code_point = (code_point << 6) | (byte(at + i) & 0x3F);
    }

    const bool overlong =
        (length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000);
    const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
    if (overlong || surrogate || code_point > 0x10FFFF) {
        return 0;
    }
    return length;
}

}  // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t length = utf8_sequence_length(text, at);
        if (length == 0) {
            return at;
        }
        at += length;
    }
    return std::nullopt;
}

std::string quote_for_message(std::string_view text, std::size_t max_bytes) {
    static const char* const kHex = "0123456789abcdef";
    std::string quoted = "'";
    std::size_t at = 0;
    while (at < text.size() && at < max_bytes) {
        std::size_t length = utf8_sequence_length(text, at);
        auto byte = static_cast<std::uint8_t>(text[at]);
        if (length == 0 || byte < 0x20 || byte == 0x7F) {
            // Escaped, so that the message stays printable, valid UTF-8 that JSON can carry.
            quoted += "\\x";
            quoted += kHex[byte >> 4];
            quoted += kHex[byte & 0x0F];
            at += 1;
            continue;
        }
        quoted.append(text.substr(at, length));
        at += length;
    }
    quoted += "'";
    if (at < text.size()) {
        quoted += "... (" + std::to_string(text.size()) + " bytes)";
    }
    return quoted;
}

}  // namespace imgbus::store
