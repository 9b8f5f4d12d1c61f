// SPDX-License-Identifier: MIT
#include <cstdio>
#include <string>

#include "codec_detail.hpp"
#include "imgbus/imaging/codec.hpp"

namespace imgbus::imaging {
namespace {

constexpr std::uint64_t kMegapixel = 1'000'000;

// "4290 megapixels" for limits of a megapixel or more, "60000 pixels" below that.
std::string describe_pixels(std::uint64_t pixels, std::uint64_t limit) {
    if (limit >= kMegapixel) {
        return std::to_string(pixels / kMegapixel) + " megapixels";
    }
    return std::to_string(pixels) + " pixels";
}

std::string first_bytes_hex(std::span<const std::uint8_t> bytes) {
    std::string hex;
    for (std::size_t i = 0; i < bytes.size() && i < 4; ++i) {
        char digits[4];
        std::snprintf(digits, sizeof digits, "%02x", bytes[i]);
        hex += (i == 0 ? "" : " ");
        hex += digits;
    }
    return hex;
}

}  // namespace

namespace detail {

bool has_jpeg_signature(Bytes bytes) {
    return bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8;
}

bool has_png_signature(Bytes bytes) {
    static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (bytes.size() < sizeof kSignature) {
        return false;
    }
    for (std::size_t i = 0; i < sizeof kSignature; ++i) {
        if (bytes[i] != kSignature[i]) {
            return false;
        }
    }
    return true;
}

Result<void> check_dimensions(const ImageInfo& info, const DecodeLimits& limits) {
    const std::string size = std::to_string(info.width) + "x" + std::to_string(info.height);
    if (info.width <= 0 || info.height <= 0) {
        return make_error(Errc::zero_dimension,
                          "image is " + size + "; a width or height of 0 has no pixels to process");
    }
    if (info.width > limits.max_dimension || info.height > limits.max_dimension) {
        return make_error(Errc::too_large, "image is " + size + ", over the limit of " +
                                               std::to_string(limits.max_dimension) +
                                               " pixels per side; send a smaller image");
    }
    const auto pixels = static_cast<std::uint64_t>(info.width) * info.height;
    if (pixels > limits.max_pixels) {
        return make_error(Errc::too_large,
                          "image is " + size + " (" + describe_pixels(pixels, limits.max_pixels) +
                              "), over the limit of " +
                              describe_pixels(limits.max_pixels, limits.max_pixels) +
                              "; send a smaller image or raise --max-pixels");
    }
    return {};
}

}  // namespace detail

Result<ImageInfo> probe(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
    if (bytes.empty()) {
        return make_error(Errc::empty_input, "input is empty (0 bytes); send a JPEG or PNG file");
    }
    if (detail::has_jpeg_signature(bytes)) {
        auto header = detail::read_jpeg_header(bytes, limits);
        if (!header) {
            return header.error();
        }
        return header->info;
    }
    if (detail::has_png_signature(bytes)) {
        return detail::read_png_header(bytes, limits);
    }
    return make_error(Errc::unknown_format, "input is not a JPEG or PNG image (it starts with " +
                                                first_bytes_hex(bytes) +
                                                "); send a JPEG or PNG file");
}

}  // namespace imgbus::imaging
