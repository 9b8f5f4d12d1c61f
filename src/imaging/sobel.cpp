// SPDX-License-Identifier: MIT
// Sobel edge detection on the BT.601 luma.
#include <cmath>
#include <vector>

#include "kernel_support.hpp"
#include "operations.hpp"

namespace imgbus::imaging::detail {
namespace {

// The luma plane of the image, one byte per pixel, computed row by row in parallel.
std::vector<std::uint8_t> luma_plane(const Image& in, const KernelContext& context) {
    std::vector<std::uint8_t> plane(static_cast<std::size_t>(in.width) * in.height);
    const int colors = color_channels(in);
    parallel_rows(in.height, context.threads, 1, [&](int y, int) noexcept {
        const std::uint8_t* source = in.row(y);
        std::uint8_t* target = plane.data() + static_cast<std::size_t>(y) * in.width;
        for (int x = 0; x < in.width; ++x) {
            const std::uint8_t* p = source + static_cast<std::size_t>(x) * in.channels;
            target[x] = colors == 1 ? p[0]
                                    : static_cast<std::uint8_t>(
                                          (77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
        }
    });
    return plane;
}

// Gradient magnitude sqrt(gx^2 + gy^2) of the 3x3 Sobel kernels at (x, y), edges extended,
// rounded and capped at 255.
inline std::uint8_t magnitude(const std::uint8_t* above, const std::uint8_t* row,
                              const std::uint8_t* below, int left, int x, int right) noexcept {
    const int gx = (above[right] + 2 * row[right] + below[right]) -
                   (above[left] + 2 * row[left] + below[left]);
    const int gy =
        (below[left] + 2 * below[x] + below[right]) - (above[left] + 2 * above[x] + above[right]);
    const double value = std::sqrt(static_cast<double>(gx * gx + gy * gy));
    return static_cast<std::uint8_t>(std::min(std::lround(value), 255L));
}

Result<Image> sobel(const Image& in, const ParamValues&, const KernelContext& context) {
    const bool alpha = in.has_alpha();
    Image out = make_image(in.width, in.height, alpha ? 2 : 1);
    const int width = in.width;
    for (int pass = 0; pass < context.passes; ++pass) {
        const auto plane = luma_plane(in, context);
        const auto line = [&](int y) {
            return plane.data() + static_cast<std::size_t>(std::clamp(y, 0, in.height - 1)) * width;
        };
        parallel_rows(in.height, context.threads, 1, [&](int y, int) noexcept {
            const std::uint8_t* above = line(y - 1);
            const std::uint8_t* row = line(y);
            const std::uint8_t* below = line(y + 1);
            std::uint8_t* target = out.row(y);
            for (int x = 0; x < width; ++x) {
                const int left = std::max(x - 1, 0), right = std::min(x + 1, width - 1);
                target[x * out.channels] = magnitude(above, row, below, left, x, right);
                if (alpha) {
                    target[x * 2 + 1] =
                        in.row(y)[static_cast<std::size_t>(x) * in.channels + in.channels - 1];
                }
            }
        });
    }
    return out;
}

}  // namespace

Operation make_sobel() {
    return {"sobel",
            "Edge strength: the magnitude of the 3x3 Sobel gradient of the luma, capped at 255; "
            "gives a gray image, keeps alpha",
            {},
            sobel};
}

}  // namespace imgbus::imaging::detail
