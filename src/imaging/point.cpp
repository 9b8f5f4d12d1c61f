// SPDX-License-Identifier: MIT
// Per-pixel operations: invert, brightness_contrast, threshold and sepia. Alpha is copied.
#include <array>
#include <cmath>

#include "kernel_support.hpp"
#include "operations.hpp"

namespace imgbus::imaging::detail {
namespace {

using Table = std::array<std::uint8_t, 256>;

// Applies `table` to every colour channel; alpha is copied.
Image apply_table(const Image& in, const Table& table, const KernelContext& context) {
    Image out = make_image(in.width, in.height, in.channels);
    const int colors = color_channels(in);
    const int channels = in.channels;
    parallel_rows(in.height, context.threads, context.passes, [&](int y, int) noexcept {
        const std::uint8_t* source = in.row(y);
        std::uint8_t* target = out.row(y);
        for (int x = 0; x < in.width; ++x) {
            const std::size_t at = static_cast<std::size_t>(x) * channels;
            for (int c = 0; c < colors; ++c) {
                target[at + c] = table[source[at + c]];
            }
            if (colors < channels) {
                target[at + colors] = source[at + colors];
            }
        }
    });
    return out;
}

Result<Image> invert(const Image& in, const ParamValues&, const KernelContext& context) {
    Table table;
    for (int v = 0; v < 256; ++v) {
        table[v] = static_cast<std::uint8_t>(255 - v);
    }
    return apply_table(in, table, context);
}

Result<Image> brightness_contrast(const Image& in, const ParamValues& params,
                                  const KernelContext& context) {
    const double factor = (100 + params.at("contrast")) / 100;
    const double offset = params.at("brightness") * 255 / 100;
    Table table;
    for (int v = 0; v < 256; ++v) {
        const double value = std::round((v - 128) * factor + 128 + offset);
        table[v] = static_cast<std::uint8_t>(std::clamp(value, 0.0, 255.0));
    }
    return apply_table(in, table, context);
}

// BT.601 luma in 8.8 fixed point, the grayscale operation's formula.
inline unsigned luma(const std::uint8_t* p, int colors) noexcept {
    return colors == 1 ? p[0] : (77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8;
}

Result<Image> threshold(const Image& in, const ParamValues& params, const KernelContext& context) {
    const auto level = static_cast<unsigned>(params.at("level"));
    Image out = make_image(in.width, in.height, in.channels);
    const int colors = color_channels(in);
    const int channels = in.channels;
    parallel_rows(in.height, context.threads, context.passes, [&](int y, int) noexcept {
        const std::uint8_t* source = in.row(y);
        std::uint8_t* target = out.row(y);
        for (int x = 0; x < in.width; ++x) {
            const std::size_t at = static_cast<std::size_t>(x) * channels;
            const std::uint8_t value = luma(source + at, colors) >= level ? 255 : 0;
            std::fill(target + at, target + at + colors, value);
            if (colors < channels) {
                target[at + colors] = source[at + colors];
            }
        }
    });
    return out;
}

// The sepia matrix in thousandths; each output is (row . (r, g, b) + 500) / 1000, capped at 255.
constexpr unsigned kSepia[3][3] = {{393, 769, 189}, {349, 686, 168}, {272, 534, 131}};

Result<Image> sepia(const Image& in, const ParamValues&, const KernelContext& context) {
    const int colors = color_channels(in);
    const bool alpha = in.has_alpha();
    Image out = make_image(in.width, in.height, alpha ? 4 : 3);
    parallel_rows(in.height, context.threads, context.passes, [&](int y, int) noexcept {
        const std::uint8_t* source = in.row(y);
        std::uint8_t* target = out.row(y);
        for (int x = 0; x < in.width; ++x) {
            const std::uint8_t* p = source + static_cast<std::size_t>(x) * in.channels;
            std::uint8_t* q = target + static_cast<std::size_t>(x) * out.channels;
            const unsigned r = p[0], g = p[colors == 1 ? 0 : 1], b = p[colors == 1 ? 0 : 2];
            for (int c = 0; c < 3; ++c) {
                const unsigned sum = kSepia[c][0] * r + kSepia[c][1] * g + kSepia[c][2] * b;
                q[c] = static_cast<std::uint8_t>(std::min((sum + 500) / 1000, 255u));
            }
            if (alpha) {
                q[3] = p[colors];
            }
        }
    });
    return out;
}

}  // namespace

Operation make_invert() {
    return {"invert", "Replaces each colour value v with 255 - v; keeps alpha", {}, invert};
}

Operation make_brightness_contrast() {
    return {"brightness_contrast",
            "v' = (v - 128) x (100 + contrast) / 100 + 128 + brightness x 2.55, rounded and "
            "capped to 0..255; keeps alpha",
            {{"brightness", "percent of full scale added to each value", ParamSpec::Type::number, 0,
              -100, 100},
             {"contrast", "percent change of the distance from mid-gray; -100 gives flat gray",
              ParamSpec::Type::number, 0, -100, 100}},
            brightness_contrast};
}

Operation make_threshold() {
    return {
        "threshold",
        "Black and white: 255 where the BT.601 luma is at least level, else 0; keeps "
        "channels and alpha",
        {{"level", "luma from which a pixel becomes white", ParamSpec::Type::integer, 128, 0, 255}},
        threshold};
}

Operation make_sepia() {
    return {"sepia",
            "Brown tone with the common sepia matrix; gray input becomes RGB; keeps alpha",
            {},
            sepia};
}

}  // namespace imgbus::imaging::detail
