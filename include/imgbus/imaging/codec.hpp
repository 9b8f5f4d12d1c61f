// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "imgbus/imaging/error.hpp"
#include "imgbus/imaging/image.hpp"
#include "imgbus/result.hpp"

namespace imgbus::imaging {

// Header facts read without decoding the pixels.
struct ImageInfo {
    Format format = Format::jpeg;
    int width = 0;  // of the upright image: after the EXIF orientation of a JPEG
    int height = 0;
    int channels = 0;  // channels of the decoded Image (1..4), not of the file
    bool progressive = false;
    int orientation = 1;  // EXIF Orientation tag of a JPEG (1..8); 1 when absent
};

// Limits checked before any pixel buffer is allocated.
struct DecodeLimits {
    std::uint64_t max_pixels = 100'000'000;  // width * height
    int max_dimension = 65'535;              // either side, in pixels
};

// Reads the format and dimensions from the header and checks them against the limits. Fails with
// empty_input, unknown_format, zero_dimension, too_large, truncated or corrupt.
Result<ImageInfo> probe(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});

// Decodes a whole JPEG or PNG. A JPEG is turned upright by its EXIF Orientation. CMYK and YCCK
// JPEGs become RGB; 16-bit PNGs are reduced to 8 bits; palette PNGs expand to RGB or RGBA (tRNS
// becomes alpha). A truncated or corrupt file fails with truncated or corrupt rather than
// returning a partly filled image; harmless libjpeg warnings (junk bytes before a marker) pass.
Result<Image> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});

struct EncodeOptions {
    int jpeg_quality = 90;    // 1..100
    int png_compression = 6;  // zlib level 0..9
};

// Encodes an image; JPEG drops an alpha channel, PNG keeps it.
Result<std::vector<std::uint8_t>> encode(const Image& image, Format format,
                                         const EncodeOptions& options = {});

}  // namespace imgbus::imaging
