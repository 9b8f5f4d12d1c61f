// SPDX-License-Identifier: MIT
#include "imgbus/amqp/content.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "imgbus/amqp/frame.hpp"
#include "wire.hpp"

namespace imgbus::amqp {

namespace {

constexpr std::uint16_t kBasicClassId = 60;

// Property-flags bits, from the most significant bit down, in the order the values follow.
enum Flag : std::uint16_t {
    content_type = 1 << 15,
    content_encoding = 1 << 14,
    headers = 1 << 13,
    delivery_mode = 1 << 12,
    priority = 1 << 11,
    correlation_id = 1 << 10,
    reply_to = 1 << 9,
    expiration = 1 << 8,
    message_id = 1 << 7,
    timestamp = 1 << 6,
    type = 1 << 5,
    user_id = 1 << 4,
    app_id = 1 << 3,
    cluster_id = 1 << 2,
    continuation = 1 << 0,
};

void read_shortstr(WireReader& reader, std::uint16_t flags, Flag flag,
                   std::optional<std::string>& value) {
    if (flags & flag) {
        value = reader.shortstr();
    }
}

Result<void> read_headers(WireReader& reader, std::span<const std::uint8_t> payload,
                          BasicProperties& properties) {
    const std::string_view whole(reinterpret_cast<const char*>(payload.data()), payload.size());
    std::size_t offset = reader.offset();
    auto table = broker::decode_field_table(whole, offset);
    if (!table) {
        return make_error(Errc::syntax_error,
                          "content header: invalid headers table: " + table.error().message);
    }
    properties.headers = std::move(*table);
    reader.take(offset - reader.offset());
    return {};
}

Result<void> read_properties(WireReader& reader, std::span<const std::uint8_t> payload,
                             std::uint16_t flags, BasicProperties& properties) {
    read_shortstr(reader, flags, content_type, properties.content_type);
    read_shortstr(reader, flags, content_encoding, properties.content_encoding);
    if ((flags & headers) && !reader.failed()) {
        if (auto read = read_headers(reader, payload, properties); !read) {
            return read;
        }
    }
    if (flags & delivery_mode) {
        properties.delivery_mode = reader.u8();
    }
    if (flags & priority) {
        properties.priority = reader.u8();
    }
    read_shortstr(reader, flags, correlation_id, properties.correlation_id);
    read_shortstr(reader, flags, reply_to, properties.reply_to);
    read_shortstr(reader, flags, expiration, properties.expiration);
    read_shortstr(reader, flags, message_id, properties.message_id);
    if (flags & timestamp) {
        properties.timestamp = reader.u64();
    }
    read_shortstr(reader, flags, type, properties.type);
    read_shortstr(reader, flags, user_id, properties.user_id);
    read_shortstr(reader, flags, app_id, properties.app_id);
    read_shortstr(reader, flags, cluster_id, properties.cluster_id);
    return {};
}

std::uint16_t flags_of(const BasicProperties& p) {
    std::uint16_t flags = 0;
    flags |= p.content_type ? content_type : 0;
    flags |= p.content_encoding ? content_encoding : 0;
    flags |= p.headers ? headers : 0;
    flags |= p.delivery_mode ? delivery_mode : 0;
    flags |= p.priority ? priority : 0;
    flags |= p.correlation_id ? correlation_id : 0;
    flags |= p.reply_to ? reply_to : 0;
    flags |= p.expiration ? expiration : 0;
    flags |= p.message_id ? message_id : 0;
    flags |= p.timestamp ? timestamp : 0;
    flags |= p.type ? type : 0;
    flags |= p.user_id ? user_id : 0;
    flags |= p.app_id ? app_id : 0;
    flags |= p.cluster_id ? cluster_id : 0;
    return flags;
}

void write_optional(WireWriter& writer, const std::optional<std::string>& value) {
    if (value) {
        writer.shortstr(*value);
    }
}

void write_properties(WireWriter& writer, std::string& out, const BasicProperties& p) {
    writer.u16(flags_of(p));
    write_optional(writer, p.content_type);
    write_optional(writer, p.content_encoding);
    if (p.headers) {
        broker::encode_field_table(*p.headers, out);
    }
    if (p.delivery_mode) {
        writer.u8(*p.delivery_mode);
    }
    if (p.priority) {
        writer.u8(*p.priority);
    }
    write_optional(writer, p.correlation_id);
    write_optional(writer, p.reply_to);
    write_optional(writer, p.expiration);
    write_optional(writer, p.message_id);
    if (p.timestamp) {
        writer.u64(*p.timestamp);
    }
    write_optional(writer, p.type);
    write_optional(writer, p.user_id);
    write_optional(writer, p.app_id);
    write_optional(writer, p.cluster_id);
}

}  // namespace

Result<ContentHeader> decode_content_header(std::span<const std::uint8_t> payload) {
    WireReader reader(payload);
    ContentHeader header;
    header.class_id = reader.u16();
    const std::uint16_t weight = reader.u16();
    header.body_size = reader.u64();
    const std::uint16_t flags = reader.u16();
    if (reader.failed()) {
        return make_error(
            Errc::frame_error,
            fmt::format("content header of {} bytes is shorter than 14 bytes", payload.size()));
    }
    if (header.class_id != kBasicClassId || weight != 0) {
        return make_error(Errc::frame_error,
                          fmt::format("content header for class {} with weight {}; only class "
                                      "basic (60) with weight 0 carries content",
                                      header.class_id, weight));
    }
    if (flags & (continuation | 0x2)) {
        return make_error(Errc::syntax_error,
                          fmt::format("content header property flags 0x{:04X} set bits that "
                                      "class basic does not define",
                                      flags));
    }
    if (auto read = read_properties(reader, payload, flags, header.properties); !read) {
        return read.error();
    }
    if (reader.failed()) {
        return make_error(
            Errc::syntax_error,
            fmt::format("content header properties truncated in {} bytes", payload.size()));
    }
    if (reader.remaining() != 0) {
        return make_error(Errc::syntax_error,
                          fmt::format("content header: {} unexpected bytes after the properties",
                                      reader.remaining()));
    }
    return header;
}

void append_content(std::string& out, std::uint16_t channel, const BasicProperties& properties,
                    std::string_view body, std::uint32_t frame_max) {
    WireWriter writer(out);
    writer.u8(static_cast<std::uint8_t>(FrameType::header));
    writer.u16(channel);
    const std::size_t size_offset = writer.size();
    writer.u32(0);
    const std::size_t payload_start = writer.size();
    writer.u16(kBasicClassId);
    writer.u16(0);
    writer.u64(body.size());
    write_properties(writer, out, properties);
    writer.patch_u32(size_offset, static_cast<std::uint32_t>(writer.size() - payload_start));
    writer.u8(kFrameEnd);

    const std::size_t chunk = frame_max == 0
                                  ? std::max<std::size_t>(body.size(), 1)
                                  : std::max(frame_max, kMinFrameMax) - kFrameOverheadBytes;
    for (std::size_t offset = 0; offset < body.size(); offset += chunk) {
        append_frame(out, FrameType::body, channel, body.substr(offset, chunk));
    }
}

}  // namespace imgbus::amqp
