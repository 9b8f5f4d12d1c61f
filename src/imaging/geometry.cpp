// SPDX-License-Identifier: MIT
// Pixel moves: the eight EXIF orientations, rotate, flip and crop.
#include <cstring>

#include "kernel_support.hpp"
#include "operations.hpp"

namespace imgbus::imaging::detail {
namespace {

// Output pixel (x, y) of orientation `o` reads input pixel source(x, y); w and h are the input's
// width and height. Orientations 5 to 8 swap the sides.
struct SourceMap {
    int orientation;
    int w, h;
    void operator()(int x, int y, int& sx, int& sy) const noexcept {
        switch (orientation) {
            case 2:
                sx = w - 1 - x;
                sy = y;
                break;
            case 3:
                sx = w - 1 - x;
                sy = h - 1 - y;
                break;
            case 4:
                sx = x;
                sy = h - 1 - y;
                break;
            case 5:
                sx = y;
                sy = x;
                break;
            case 6:
                sx = y;
                sy = h - 1 - x;
                break;
            case 7:
                sx = w - 1 - y;
                sy = h - 1 - x;
                break;
            case 8:
                sx = w - 1 - y;
                sy = x;
                break;
            default:
                sx = x;
                sy = y;
                break;
        }
    }
};

Result<Image> rotate(const Image& in, const ParamValues& params, const KernelContext& context) {
    constexpr int kOrientation[] = {6, 3, 8};  // 90, 180, 270 degrees clockwise
    return orient(in, kOrientation[static_cast<int>(params.at("angle"))], context);
}

Result<Image> flip(const Image& in, const ParamValues& params, const KernelContext& context) {
    return orient(in, params.at("direction") == 0 ? 2 : 4, context);
}

Result<Image> crop(const Image& in, const ParamValues& params, const KernelContext& context) {
    const int x = static_cast<int>(params.at("x"));
    const int y = static_cast<int>(params.at("y"));
    if (x >= in.width || y >= in.height) {
        return invalid("crop origin x=" + std::to_string(x) + ", y=" + std::to_string(y) +
                       " lies outside the " + std::to_string(in.width) + "x" +
                       std::to_string(in.height) + " image; use x < " + std::to_string(in.width) +
                       " and y < " + std::to_string(in.height));
    }
    int width = static_cast<int>(params.at("width"));
    int height = static_cast<int>(params.at("height"));
    width = width == 0 ? in.width - x : width;
    height = height == 0 ? in.height - y : height;
    if (x + width > in.width || y + height > in.height) {
        return invalid("crop x=" + std::to_string(x) + " width=" + std::to_string(width) +
                       ", y=" + std::to_string(y) + " height=" + std::to_string(height) +
                       " reaches past the " + std::to_string(in.width) + "x" +
                       std::to_string(in.height) +
                       " image; make x + width <= " + std::to_string(in.width) +
                       " and y + height <= " + std::to_string(in.height));
    }
    Image out = make_image(width, height, in.channels);
    parallel_rows(height, context.threads, context.passes, [&](int row, int) noexcept {
        std::memcpy(out.row(row), in.row(y + row) + static_cast<std::size_t>(x) * in.channels,
                    out.stride());
    });
    return out;
}

}  // namespace

Image orient(const Image& in, int orientation, const KernelContext& context) {
    const bool swap = orientation >= 5 && orientation <= 8;
    Image out = make_image(swap ? in.height : in.width, swap ? in.width : in.height, in.channels);
    const SourceMap source{orientation, in.width, in.height};
    const int channels = in.channels;
    parallel_rows(out.height, context.threads, context.passes, [&](int y, int) noexcept {
        std::uint8_t* target = out.row(y);
        for (int x = 0; x < out.width; ++x) {
            int sx = 0, sy = 0;
            source(x, y, sx, sy);
            std::memcpy(target + static_cast<std::size_t>(x) * channels,
                        in.row(sy) + static_cast<std::size_t>(sx) * channels, channels);
        }
    });
    return out;
}

Operation make_rotate() {
    return {
        "rotate",
        "Turns the image clockwise by 90, 180 or 270 degrees",
        {{"angle", "degrees clockwise", ParamSpec::Type::choice, 0, 0, 0, {"90", "180", "270"}}},
        rotate};
}

Operation make_flip() {
    return {"flip",
            "Mirrors the image: horizontal swaps left and right, vertical swaps top and bottom",
            {{"direction",
              "mirror axis",
              ParamSpec::Type::choice,
              0,
              0,
              0,
              {"horizontal", "vertical"}}},
            flip};
}

Operation make_crop() {
    return {"crop",
            "Keeps the rectangle at (x, y) of width x height pixels; 0 for width or height "
            "reaches the image edge",
            {{"x", "left edge, in pixels", ParamSpec::Type::integer, 0, 0, 65535},
             {"y", "top edge, in pixels", ParamSpec::Type::integer, 0, 0, 65535},
             {"width", "width in pixels, 0 for up to the right edge", ParamSpec::Type::integer, 0,
              0, 65535},
             {"height", "height in pixels, 0 for up to the bottom edge", ParamSpec::Type::integer,
              0, 0, 65535}},
            crop};
}

}  // namespace imgbus::imaging::detail
