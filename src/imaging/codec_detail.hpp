// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "imgbus/imaging/codec.hpp"

// Format-specific halves of probe(), decode() and encode(); codec.cpp picks one by signature.
namespace imgbus::imaging::detail {

using Bytes = std::span<const std::uint8_t>;

// What a walk over the JPEG markers up to the first SOS finds.
struct JpegHeader {
    ImageInfo info;
    int components = 0;         // colour components in the frame (1, 3 or 4)
    bool adobe_marker = false;  // an APP14 "Adobe" segment is present
    int stored_width = 0;       // the frame's size; info holds the upright size
    int stored_height = 0;
};

bool has_jpeg_signature(Bytes bytes);
bool has_png_signature(Bytes bytes);

// Fails with too_large or zero_dimension when the declared size breaks the limits.
Result<void> check_dimensions(const ImageInfo& info, const DecodeLimits& limits);

// Walks the markers up to the first SOS without decoding; checks the SOF against the limits as
// soon as it is seen.
Result<JpegHeader> read_jpeg_header(Bytes bytes, const DecodeLimits& limits);

// Reads IHDR and the chunks before the first IDAT (for tRNS) and checks the limits.
Result<ImageInfo> read_png_header(Bytes bytes, const DecodeLimits& limits);

Result<Image> decode_jpeg(Bytes bytes, const JpegHeader& header);

// Adobe applications store CMYK inverted (0 is full ink), and an APP14 "Adobe" segment marks
// such files. Converts `pixels` CMYK pixels to RGB with the naive formula R = (1 - C)(1 - K),
// without an ICC profile.
void cmyk_to_rgb(const std::uint8_t* cmyk, std::size_t pixels, bool inverted, std::uint8_t* rgb);

// Reads the whole JPEG with libjpeg and fails when any warning means lost pixels: truncated for
// "Premature end of JPEG file", corrupt for damaged scan data. Junk bytes before a marker and
// header warnings pass.
Result<void> audit_jpeg_warnings(Bytes bytes);

// The EXIF Orientation (1..8) of an APP1 segment's payload, or 1 when it has none.
int exif_orientation(Bytes app1_payload);
Result<Image> decode_png(Bytes bytes, const ImageInfo& info, const DecodeLimits& limits);

Result<std::vector<std::uint8_t>> encode_jpeg(const Image& image, int quality);
Result<std::vector<std::uint8_t>> encode_png(const Image& image, int compression_level,
                                             PngFilter filter);

}  // namespace imgbus::imaging::detail
