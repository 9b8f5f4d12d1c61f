// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "imgbus/amqp/error.hpp"
#include "imgbus/broker/field_table.hpp"

namespace imgbus::amqp {

// The 14 properties of class basic, each present or absent as its property-flags bit says.
struct BasicProperties {
    std::optional<std::string> content_type;
    std::optional<std::string> content_encoding;
    std::optional<broker::FieldTable> headers;
    std::optional<std::uint8_t> delivery_mode;  // 1 transient, 2 persistent
    std::optional<std::uint8_t> priority;
    std::optional<std::string> correlation_id;
    std::optional<std::string> reply_to;
    std::optional<std::string> expiration;  // per-message TTL in milliseconds, as a decimal string
    std::optional<std::string> message_id;
    std::optional<std::uint64_t> timestamp;  // seconds since the Unix epoch
    std::optional<std::string> type;
    std::optional<std::string> user_id;
    std::optional<std::string> app_id;
    std::optional<std::string> cluster_id;  // reserved

    bool operator==(const BasicProperties&) const = default;
};

// The payload of a content header frame: class id, weight (always 0), body size, properties.
struct ContentHeader {
    std::uint16_t class_id = 60;
    std::uint64_t body_size = 0;
    BasicProperties properties;
};

// Decodes a content header payload. Fails with frame_error for a class other than basic (60) or
// a nonzero weight, and with syntax_error for truncated or trailing bytes, a property-flags
// continuation bit (basic has only 14 properties) or a malformed headers table.
Result<ContentHeader> decode_content_header(std::span<const std::uint8_t> payload);

// Appends the content header frame and the body frames of one message to `out`, splitting the
// body so that no frame exceeds frame_max bytes (0 means no limit).
void append_content(std::string& out, std::uint16_t channel, const BasicProperties& properties,
                    std::string_view body, std::uint32_t frame_max);

}  // namespace imgbus::amqp
