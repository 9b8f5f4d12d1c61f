// SPDX-License-Identifier: MIT
#include "imgbus/imaging/image.hpp"

#include <cassert>

namespace imgbus::imaging {

std::string_view format_name(Format format) { return format == Format::jpeg ? "jpeg" : "png"; }

std::string_view format_mime_type(Format format) {
    return format == Format::jpeg ? "image/jpeg" : "image/png";
}

std::string_view format_extension(Format format) { return format == Format::jpeg ? "jpg" : "png"; }

Image make_image(int width, int height, int channels) {
    assert(width >= 0 && height >= 0 && channels >= 1 && channels <= 4);
    Image image;
    image.width = width;
    image.height = height;
    image.channels = channels;
    image.pixels.assign(image.byte_size(), 0);
    return image;
}

}  // namespace imgbus::imaging
