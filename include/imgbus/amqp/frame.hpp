// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "imgbus/amqp/error.hpp"

namespace imgbus::amqp {

// A frame is a 7-byte header (type octet, channel short, payload size long), the payload and the
// frame-end octet 0xCE. All integers are big-endian.
inline constexpr std::size_t kFrameHeaderBytes = 7;
inline constexpr std::size_t kFrameOverheadBytes = kFrameHeaderBytes + 1;
inline constexpr std::uint8_t kFrameEnd = 0xCE;
// The smallest frame-max a peer may negotiate; frames up to this size are always allowed.
inline constexpr std::uint32_t kMinFrameMax = 4096;

// "AMQP" 0 0 9 1: the bytes a 0-9-1 client sends first, and that the server sends back to a
// client that offered another version.
inline constexpr std::array<std::uint8_t, 8> kProtocolHeader = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

enum class FrameType : std::uint8_t {
    method = 1,
    header = 2,
    body = 3,
    heartbeat = 8,
};

struct FrameHeader {
    FrameType type = FrameType::method;
    std::uint16_t channel = 0;
    std::uint32_t payload_size = 0;
};

// Decodes the 7 header bytes and checks the type and the size against frame_max (the whole frame,
// header and frame-end included, as AMQP counts it). Fails with frame_error.
Result<FrameHeader> decode_frame_header(std::span<const std::uint8_t, kFrameHeaderBytes> bytes,
                                        std::uint32_t frame_max);

// Checks the octet after the payload; fails with frame_error unless it is 0xCE.
Result<void> check_frame_end(std::uint8_t octet);

// Checks the 8 bytes a client opens with; fails with frame_error naming what was received.
Result<void> check_protocol_header(std::span<const std::uint8_t, 8> bytes);

// Appends a whole frame (header, payload, frame-end) to `out`.
void append_frame(std::string& out, FrameType type, std::uint16_t channel,
                  std::string_view payload);

// Appends a heartbeat frame (type 8 on channel 0, empty payload).
void append_heartbeat(std::string& out);

}  // namespace imgbus::amqp
