// SPDX-License-Identifier: MIT
// Feeds arbitrary bytes to the AMQP frame, method and content-header decoders, as the listener
// reads them from a socket, and checks that every method that decodes encodes and decodes again
// to the same frame.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "imgbus/amqp/content.hpp"
#include "imgbus/amqp/frame.hpp"
#include "imgbus/amqp/method.hpp"

namespace {

using namespace imgbus::amqp;

void check_method_round_trip(const Method& method) {
    std::string frame;
    append_method_frame(frame, 1, method);
    // Bits that the decoder ignores (reserved bits of a bit octet) may differ, so compare the
    // decoded results rather than the bytes.
    const std::span<const std::uint8_t> again(
        reinterpret_cast<const std::uint8_t*>(frame.data()) + kFrameHeaderBytes,
        frame.size() - kFrameOverheadBytes);
    auto decoded = decode_method(again);
    if (!decoded.ok() || method_id_of(*decoded).class_id != method_id_of(method).class_id ||
        method_name(*decoded) != method_name(method)) {
        std::abort();
    }
    std::string frame_again;
    append_method_frame(frame_again, 1, *decoded);
    if (frame_again != frame) {
        std::abort();
    }
}

void decode_payload(FrameType type, std::span<const std::uint8_t> payload) {
    if (type == FrameType::method) {
        auto method = decode_method(payload);
        if (method.ok()) {
            check_method_round_trip(*method);
        }
    } else if (type == FrameType::header) {
        auto header = decode_content_header(payload);
        if (header.ok()) {
            std::string frames;
            append_content(frames, 1, header->properties, {}, kMinFrameMax);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    // Frame-max 64 KiB keeps the fuzzer's frames in the sizes a real connection negotiates.
    constexpr std::uint32_t kFrameMax = 65536;
    while (input.size() >= kFrameHeaderBytes) {
        auto header = decode_frame_header(input.first<kFrameHeaderBytes>(), kFrameMax);
        if (!header.ok()) {
            return 0;
        }
        const std::size_t total = kFrameOverheadBytes + header->payload_size;
        if (input.size() < total || !check_frame_end(input[total - 1]).ok()) {
            return 0;
        }
        decode_payload(header->type, input.subspan(kFrameHeaderBytes, header->payload_size));
        input = input.subspan(total);
    }
    return 0;
}
