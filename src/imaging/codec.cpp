// SPDX-License-Identifier: MIT
#include "imgbus/imaging/codec.hpp"

#include <string>

#include "codec_detail.hpp"

namespace imgbus::imaging {
namespace {

Result<void> check_encodable(const Image& image, const EncodeOptions& options) {
    if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4) {
        return make_error(Errc::invalid_argument,
                          "cannot encode an image of " + std::to_string(image.width) + "x" +
                              std::to_string(image.height) + " with " +
                              std::to_string(image.channels) + " channels; expected 1 to 4");
    }
    if (image.pixels.size() != image.byte_size()) {
        return make_error(Errc::invalid_argument,
                          "image buffer holds " + std::to_string(image.pixels.size()) +
                              " bytes but its shape needs " + std::to_string(image.byte_size()));
    }
    if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
        return make_error(
            Errc::invalid_argument,
            "JPEG quality " + std::to_string(options.jpeg_quality) + " is out of range 1..100");
    }
    if (options.png_compression < 0 || options.png_compression > 9) {
        return make_error(Errc::invalid_argument, "PNG compression level " +
                                                      std::to_string(options.png_compression) +
                                                      " is out of range 0..9");
    }
    return {};
}

constexpr std::string_view kPngFilterNames[] = {"none",    "sub",   "up",
                                                "average", "paeth", "adaptive"};

}  // namespace

std::string_view png_filter_name(PngFilter filter) {
    return kPngFilterNames[static_cast<int>(filter)];
}

Result<PngFilter> parse_png_filter(std::string_view text) {
    for (std::size_t i = 0; i < std::size(kPngFilterNames); ++i) {
        if (text == kPngFilterNames[i]) {
            return static_cast<PngFilter>(i);
        }
    }
    return make_error(Errc::invalid_argument,
                      "PNG filter '" + std::string(text.substr(0, 64)) +
                          "' is not one of none, sub, up, average, paeth, adaptive");
}

Result<Image> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
    if (detail::has_jpeg_signature(bytes)) {
        auto header = detail::read_jpeg_header(bytes, limits);
        if (!header) {
            return header.error();
        }
        return detail::decode_jpeg(bytes, *header);
    }

    // probe() reports empty and unknown input, and checks the PNG header against the limits.
    auto info = probe(bytes, limits);
    if (!info) {
        return info.error();
    }
    return detail::decode_png(bytes, *info, limits);
}

Result<std::vector<std::uint8_t>> encode(const Image& image, Format format,
                                         const EncodeOptions& options) {
    if (auto valid = check_encodable(image, options); !valid) {
        return valid.error();
    }
    if (format == Format::jpeg) {
        return detail::encode_jpeg(image, options.jpeg_quality);
    }
    return detail::encode_png(image, options.png_compression, options.png_filter);
}

}  // namespace imgbus::imaging
