// SPDX-License-Identifier: MIT
#include "imgbus/amqp/frame.hpp"

#include <fmt/format.h>

#include "wire.hpp"

namespace imgbus::amqp {

Result<FrameHeader> decode_frame_header(std::span<const std::uint8_t, kFrameHeaderBytes> bytes,
                                        std::uint32_t frame_max) {
    WireReader reader(bytes);
    const auto type = reader.u8();
    FrameHeader header;
    header.channel = reader.u16();
    header.payload_size = reader.u32();

    switch (static_cast<FrameType>(type)) {
        case FrameType::method:
        case FrameType::header:
        case FrameType::body:
        case FrameType::heartbeat:
            header.type = static_cast<FrameType>(type);
            break;
        default:
            return make_error(Errc::frame_error, fmt::format("unknown frame type {}", type));
    }
    const std::uint64_t frame_size = std::uint64_t{header.payload_size} + kFrameOverheadBytes;
    if (frame_size > std::max(frame_max, kMinFrameMax)) {
        return make_error(Errc::frame_error,
                          fmt::format("frame of {} bytes exceeds the negotiated frame-max {}",
                                      frame_size, frame_max));
    }
    if (header.type == FrameType::heartbeat && header.channel != 0) {
        return make_error(
            Errc::frame_error,
            fmt::format("heartbeat frame on channel {}; heartbeats use channel 0", header.channel));
    }
    return header;
}

Result<void> check_frame_end(std::uint8_t octet) {
    if (octet != kFrameEnd) {
        return make_error(Errc::frame_error,
                          fmt::format("frame ends with 0x{:02X} instead of 0xCE", octet));
    }
    return {};
}

Result<void> check_protocol_header(std::span<const std::uint8_t, 8> bytes) {
    if (std::equal(bytes.begin(), bytes.end(), kProtocolHeader.begin())) {
        return {};
    }
    std::string shown;
    for (std::uint8_t octet : bytes) {
        shown += (octet >= 0x20 && octet < 0x7F) ? fmt::format("{:c}", static_cast<char>(octet))
                                                 : fmt::format("\\x{:02X}", octet);
    }
    return make_error(Errc::frame_error,
                      fmt::format("protocol header '{}' is not AMQP 0-9-1 ('AMQP\\x00\\x00\\x09"
                                  "\\x01'); use an AMQP 0-9-1 client",
                                  shown));
}

void append_frame(std::string& out, FrameType type, std::uint16_t channel,
                  std::string_view payload) {
    WireWriter writer(out);
    writer.u8(static_cast<std::uint8_t>(type));
    writer.u16(channel);
    writer.u32(static_cast<std::uint32_t>(payload.size()));
    writer.raw(payload);
    writer.u8(kFrameEnd);
}

void append_heartbeat(std::string& out) { append_frame(out, FrameType::heartbeat, 0, {}); }

}  // namespace imgbus::amqp
