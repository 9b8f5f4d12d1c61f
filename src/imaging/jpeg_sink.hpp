// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "imgbus/imaging/byte_sink.hpp"
#include "libjpeg_errors.hpp"

namespace imgbus::imaging::detail {

// Size of the encoder's output buffer: each full buffer becomes one ByteSink::write, so a file
// sink makes one write(2) per 64 KiB.
inline constexpr std::size_t kJpegSinkBufferBytes = 64 * 1024;

// A libjpeg destination manager that writes into a fixed buffer and hands each full buffer to
// a ByteSink, so the encoded file never sits whole in memory unless the sink collects it.
// When the sink fails, the manager keeps the sink's error and raises a libjpeg error, which
// jumps to the setjmp of the code that drives the encoder.
struct JpegSinkDestination {
    jpeg_destination_mgr pub;  // first member, so libjpeg's pointer converts back
    ByteSink* sink = nullptr;
    std::unique_ptr<std::uint8_t[]> buffer;
    std::optional<Error> error;  // the sink's error, when a write failed
};

// Sets cinfo->dest to `destination`, which writes to `sink`; call after jpeg_create_compress.
// Both must outlive the encoder.
void install_sink_destination(j_compress_ptr cinfo, JpegSinkDestination& destination,
                              ByteSink& sink);

}  // namespace imgbus::imaging::detail
