// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace imgbus::imaging {

// File formats that imgbus reads and writes.
enum class Format { jpeg, png };

std::string_view format_name(Format format);
std::string_view format_mime_type(Format format);
std::string_view format_extension(Format format);  // "jpg" or "png", no dot

// An 8-bit interleaved pixel buffer. channels is 1 (gray), 2 (gray + alpha), 3 (RGB) or
// 4 (RGBA); rows are packed, so the stride is width * channels bytes.
struct Image {
    int width = 0;
    int height = 0;
    int channels = 0;
    std::vector<std::uint8_t> pixels;

    std::size_t stride() const { return static_cast<std::size_t>(width) * channels; }
    std::size_t byte_size() const { return stride() * static_cast<std::size_t>(height); }
    bool has_alpha() const { return channels == 2 || channels == 4; }
    std::uint8_t* row(int y) { return pixels.data() + stride() * static_cast<std::size_t>(y); }
    const std::uint8_t* row(int y) const {
        return pixels.data() + stride() * static_cast<std::size_t>(y);
    }
};

// Allocates an image of the given shape with zeroed pixels.
Image make_image(int width, int height, int channels);

}  // namespace imgbus::imaging
