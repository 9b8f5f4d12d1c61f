// SPDX-License-Identifier: MIT
#pragma once

#include "imgbus/imaging/operation.hpp"

// The built-in operations. Each is defined in its own source file and registered by one line in
// operation_registry.cpp; docs/adding-an-operation.md walks through adding one.
namespace imgbus::imaging::detail {

Operation make_grayscale();
Operation make_gaussian_blur();
Operation make_box_blur();
Operation make_sharpen();
Operation make_sobel();
Operation make_sepia();
Operation make_invert();
Operation make_brightness_contrast();
Operation make_threshold();
Operation make_resize();
Operation make_rotate();
Operation make_flip();
Operation make_crop();

// Turns an image by one of the eight EXIF orientations (1 = as stored, 2 = mirrored, 3 = turned
// 180 degrees, 4 = flipped, 5 = transposed, 6 = turned 90 degrees clockwise, 7 = transversed,
// 8 = turned 90 degrees anticlockwise). Orientations 5 to 8 swap width and height.
Image orient(const Image& in, int orientation, const KernelContext& context);

}  // namespace imgbus::imaging::detail
