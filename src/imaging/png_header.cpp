// SPDX-License-Identifier: MIT
#include <cstring>
#include <string>

#include "codec_detail.hpp"

namespace imgbus::imaging::detail {
namespace {

constexpr std::size_t kSignatureSize = 8;
constexpr std::size_t kChunkOverhead = 12;  // length, type and CRC
constexpr std::size_t kIhdrSize = 13;

enum PngColorType { kGray = 0, kRgb = 2, kPalette = 3, kGrayAlpha = 4, kRgba = 6 };

std::uint32_t read_u32(Bytes bytes, std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

bool chunk_is(Bytes bytes, std::size_t at, const char* type) {
    return std::memcmp(bytes.data() + at + 4, type, 4) == 0;
}

Error ends_early(std::size_t size) {
    return make_error(Errc::truncated, "PNG ends at byte " + std::to_string(size) +
                                           " before its image data (IDAT); the file is "
                                           "truncated, send the complete file");
}

bool valid_depth(int color_type, int depth) {
    switch (color_type) {
        case kGray:
            return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
        case kPalette:
            return depth == 1 || depth == 2 || depth == 4 || depth == 8;
        case kRgb:
        case kGrayAlpha:
        case kRgba:
            return depth == 8 || depth == 16;
        default:
            return false;
    }
}

// Channels after expanding palettes and turning tRNS into alpha.
int decoded_channels(int color_type, bool has_trns) {
    switch (color_type) {
        case kGray:
            return has_trns ? 2 : 1;
        case kGrayAlpha:
            return 2;
        case kRgba:
            return 4;
        default:
            return has_trns ? 4 : 3;
    }
}

// Looks for tRNS in the chunks between IHDR and the first IDAT.
Result<bool> find_trns(Bytes bytes, std::size_t pos) {
    while (true) {
        if (bytes.size() - pos < kChunkOverhead) {
            return ends_early(bytes.size());
        }
        const std::uint32_t length = read_u32(bytes, pos);
        if (length > 0x7FFFFFFFu) {
            return make_error(Errc::corrupt, "PNG chunk at offset " + std::to_string(pos) +
                                                 " declares length " + std::to_string(length) +
                                                 ", over the PNG maximum of 2^31-1");
        }
        if (chunk_is(bytes, pos, "IDAT")) {
            return false;
        }
        if (chunk_is(bytes, pos, "IEND")) {
            return make_error(Errc::corrupt, "PNG has no image data: IEND comes before any IDAT");
        }
        if (chunk_is(bytes, pos, "tRNS")) {
            return true;
        }
        if (bytes.size() - pos - kChunkOverhead < length) {
            return ends_early(bytes.size());
        }
        pos += kChunkOverhead + length;
    }
}

}  // namespace

Result<ImageInfo> read_png_header(Bytes bytes, const DecodeLimits& limits) {
    const std::size_t ihdr = kSignatureSize;
    if (bytes.size() < ihdr + kChunkOverhead + kIhdrSize) {
        return make_error(Errc::truncated, "PNG is " + std::to_string(bytes.size()) +
                                               " bytes, too short to hold its IHDR header; the "
                                               "file is truncated, send the complete file");
    }
    if (!chunk_is(bytes, ihdr, "IHDR") || read_u32(bytes, ihdr) != kIhdrSize) {
        return make_error(Errc::corrupt, "PNG does not start with a 13-byte IHDR chunk");
    }

    const std::size_t data = ihdr + 8;
    ImageInfo info;
    info.format = Format::png;
    const std::uint32_t width = read_u32(bytes, data);
    const std::uint32_t height = read_u32(bytes, data + 4);
    const int depth = bytes[data + 8];
    const int color_type = bytes[data + 9];
    const int interlace = bytes[data + 12];

    // Sides above INT_MAX are clamped so that the limit check still sees a huge value.
    info.width = static_cast<int>(width > 0x7FFFFFFFu ? 0x7FFFFFFFu : width);
    info.height = static_cast<int>(height > 0x7FFFFFFFu ? 0x7FFFFFFFu : height);
    info.progressive = interlace == 1;
    if (auto size_ok = check_dimensions(info, limits); !size_ok) {
        return size_ok.error();
    }
    if (!valid_depth(color_type, depth)) {
        return make_error(Errc::corrupt, "PNG IHDR has colour type " + std::to_string(color_type) +
                                             " with bit depth " + std::to_string(depth) +
                                             ", a combination the PNG standard does not allow");
    }
    if (bytes[data + 10] != 0 || bytes[data + 11] != 0 || interlace > 1) {
        return make_error(Errc::corrupt,
                          "PNG IHDR has an unknown compression, filter or interlace method");
    }

    auto trns = find_trns(bytes, ihdr + kChunkOverhead + kIhdrSize);
    if (!trns) {
        return trns.error();
    }
    info.channels = decoded_channels(color_type, *trns);
    return info;
}

}  // namespace imgbus::imaging::detail
