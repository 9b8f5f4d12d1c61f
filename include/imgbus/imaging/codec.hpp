// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
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

// The PNG row filter: a per-row prediction that zlib then compresses. adaptive lets libpng try
// every filter on each row and keep the one with the smallest sum of absolute residuals, which
// costs about five filter passes per row.
enum class PngFilter { none, sub, up, average, paeth, adaptive };

// "none", "sub", "up", "average", "paeth" or "adaptive".
std::string_view png_filter_name(PngFilter filter);
// Fails with invalid_argument naming the value and the choices.
Result<PngFilter> parse_png_filter(std::string_view text);

// docs/imaging.md has the measurements behind the PNG defaults: zlib level 1 with the sub
// filter writes a photo several times faster than level 6 with adaptive filters, for a file
// a few per cent larger.
struct EncodeOptions {
    int jpeg_quality = 90;    // 1..100
    int png_compression = 1;  // zlib level 0..9
    PngFilter png_filter = PngFilter::sub;
};

// Encodes an image; JPEG drops an alpha channel, PNG keeps it.
Result<std::vector<std::uint8_t>> encode(const Image& image, Format format,
                                         const EncodeOptions& options = {});

}  // namespace imgbus::imaging
