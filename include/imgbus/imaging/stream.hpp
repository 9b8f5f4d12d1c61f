// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "imgbus/imaging/byte_sink.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/operation.hpp"
#include "imgbus/result.hpp"

// The streaming JPEG to gray JPEG path. It decodes strips of rows on the calling thread and
// encodes them on a second thread as they come, with a few strip buffers in between. So decode
// and encode overlap, where the whole-image path runs them one after the other. docs/imaging.md
// explains when each path runs.
namespace imgbus::imaging {

// The path a job took, as reported in its timings.
enum class KernelPath {
    whole_image,  // decode all, run the OpenMP kernel over all rows, encode all
    stream,       // decode to RGB (or gray) strips, grayscale kernel per strip, encode strips
    luma_stream,  // decode the JPEG's Y channel straight to gray strips, encode strips
};

// "whole-image", "stream" or "luma-stream".
std::string_view kernel_path_name(KernelPath path);

// The processing paths a caller allows.
enum class PathChoice {
    automatic,    // the fastest path the job allows
    stream,       // a streaming path, but never luma-stream: decode to RGB and run the kernel
    whole_image,  // always the whole-image path, as the thread-scaling experiments need
};

// Reads "auto", "stream" or "whole-image"; fails with invalid_argument naming the value.
Result<PathChoice> parse_path_choice(std::string_view text);
std::string_view path_choice_name(PathChoice choice);

// The path a job will take: a streaming one only for a single grayscale step run once on a
// JPEG without an EXIF turn, written as JPEG. luma_stream is a candidate here; the decoder
// falls back to stream when the file is not YCbCr.
KernelPath choose_path(PathChoice choice, const std::vector<ValidatedStep>& steps, int passes,
                       const ImageInfo& input, Format output);

struct StreamOptions {
    int jpeg_quality = 90;  // 1..100
    bool luma = true;       // decode YCbCr files straight to their Y channel
    int strip_rows = 32;    // rows per strip buffer
    int strips = 4;         // strip buffers between decoder and encoder
    // For tests: when set, receives a copy of the gray rows handed to the encoder.
    Image* gray_rows = nullptr;
};

// The size, path and busy times of a streamed conversion.
struct StreamStats {
    int width = 0;
    int height = 0;
    KernelPath path = KernelPath::stream;
    // Busy time of each side; decode and encode overlap, so the sum exceeds the wall time.
    double decode_seconds = 0;
    double kernel_seconds = 0;  // the grayscale kernel on the strips; 0 for luma_stream
    double encode_seconds = 0;
};

// A streamed conversion collected in memory.
struct StreamResult : StreamStats {
    std::vector<std::uint8_t> bytes;  // the gray JPEG
};

// Converts a JPEG to a gray JPEG at the given quality. The stream path writes the bytes of
// decode(), grayscale() and encode(). luma_stream writes the JPEG's Y channel instead, which is
// within 1 level of the kernel's luma except where the decoded RGB clips (docs/imaging.md).
// Checks the limits first and fails like decode() on hostile input. Errors from the encoder have
// the code encode_failed. The input must have EXIF orientation 1.
Result<StreamResult> stream_grayscale_jpeg(std::span<const std::uint8_t> bytes,
                                           const DecodeLimits& limits,
                                           const StreamOptions& options = {});

// The same conversion, writing the gray JPEG to `sink` in blocks of 64 KiB as the encoder fills
// them. The sink receives the first bytes before the decoder has read the whole input, so on an
// error it contains part of a file, which the caller must discard. A failed write stops the
// conversion with encode_failed and the sink's message.
Result<StreamStats> stream_grayscale_jpeg(std::span<const std::uint8_t> bytes,
                                          const DecodeLimits& limits, const StreamOptions& options,
                                          ByteSink& sink);

}  // namespace imgbus::imaging
