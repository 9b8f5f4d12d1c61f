// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

#include "imgbus/imaging/image.hpp"

namespace imgbus::imaging {

// Luma from R, G and B with the ITU-R BT.601 weights (0.299, 0.587, 0.114) in 8.8 fixed point:
// (77 R + 150 G + 29 B + 128) >> 8. The weights add up to 256, so white stays 255.
//
// Writes a gray image (1 channel, or 2 when the input has alpha, which is copied unchanged).
// Gray input is copied through. Uses `threads` OpenMP threads over rows, `passes` times;
// every thread count gives identical bytes.
Image grayscale(const Image& input, int threads, int passes = 1);

// One row of the kernel: `width` RGB pixels to `width` gray bytes. The streaming path runs it
// per strip; `in` and `out` must not overlap.
void grayscale_rgb_row(const std::uint8_t* in, std::uint8_t* out, int width) noexcept;

// The single-threaded scalar reference the kernel is tested against.
Image grayscale_reference(const Image& input);

}  // namespace imgbus::imaging
