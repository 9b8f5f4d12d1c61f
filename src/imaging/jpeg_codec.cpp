// SPDX-License-Identifier: MIT
#include <turbojpeg.h>

#include <cstring>
#include <memory>
#include <string>

#include "codec_detail.hpp"
#include "operations.hpp"

namespace imgbus::imaging::detail {
namespace {

struct TjDeleter {
    void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

struct TjBufferDeleter {
    void operator()(unsigned char* buffer) const { tjFree(buffer); }
};

// A progressive JPEG with thousands of scans costs minutes of CPU; TurboJPEG stops at 500.
constexpr int kDecodeFlags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
// The second decode, after the audit found only harmless warnings.
constexpr int kTolerantFlags = TJFLAG_LIMITSCANS;

std::string tj_message(tjhandle handle) { return tjGetErrorStr2(handle); }

bool contains(const std::string& text, const char* part) {
    return text.find(part) != std::string::npos;
}

// libjpeg reports missing data as warnings ("Premature end of JPEG file", "premature end of data
// segment"). With TJFLAG_STOPONWARNING they fail the decode; here they become truncated.
Error decode_error(tjhandle handle) {
    const std::string message = tj_message(handle);
    if (contains(message, "Premature end") || contains(message, "premature end")) {
        return make_error(Errc::truncated, "JPEG data ends early (" + message +
                                               "); the file is truncated, send the complete file");
    }
    return make_error(Errc::corrupt, "JPEG is corrupt: " + message);
}

int pixel_format_for(int jpeg_colorspace) {
    switch (jpeg_colorspace) {
        case TJCS_GRAY:
            return TJPF_GRAY;
        case TJCS_CMYK:
        case TJCS_YCCK:
            return TJPF_CMYK;
        default:
            return TJPF_RGB;
    }
}

// Decodes the pixels into `image`. The first attempt stops at any warning; when the warning is
// harmless by audit_jpeg_warnings, a second attempt decodes through it.
Result<void> decompress(tjhandle handle, Bytes bytes, Image& image, int pixel_format) {
    auto* data = const_cast<unsigned char*>(bytes.data());  // TurboJPEG 2.1 takes non-const
    if (tjDecompress2(handle, data, bytes.size(), image.pixels.data(), image.width, 0, image.height,
                      pixel_format, kDecodeFlags) == 0) {
        return {};
    }
    if (tjGetErrorCode(handle) != TJERR_WARNING) {
        return decode_error(handle);
    }
    if (auto audit = audit_jpeg_warnings(bytes); !audit) {
        return audit.error();
    }
    if (tjDecompress2(handle, data, bytes.size(), image.pixels.data(), image.width, 0, image.height,
                      pixel_format, kTolerantFlags) != 0 &&
        tjGetErrorCode(handle) != TJERR_WARNING) {
        return decode_error(handle);
    }
    return {};
}

}  // namespace

void cmyk_to_rgb(const std::uint8_t* cmyk, std::size_t pixels, bool inverted, std::uint8_t* rgb) {
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint8_t* p = cmyk + 4 * i;
        const unsigned flip = inverted ? 0 : 255;
        const unsigned k = p[3] ^ flip;
        for (int c = 0; c < 3; ++c) {
            rgb[3 * i + c] = static_cast<std::uint8_t>(((p[c] ^ flip) * k + 127) / 255);
        }
    }
}

Result<Image> decode_jpeg(Bytes bytes, const JpegHeader& header) {
    TjHandle handle(tjInitDecompress());
    if (!handle) {
        return make_error(Errc::corrupt,
                          std::string("cannot start the JPEG decoder: ") + tjGetErrorStr2(nullptr));
    }
    auto* data = const_cast<unsigned char*>(bytes.data());  // TurboJPEG 2.1 takes non-const
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    // TurboJPEG 2.1 fails the header call on a warning too, after filling in the values;
    // decompress() decides whether the warning matters.
    if (tjDecompressHeader3(handle.get(), data, bytes.size(), &width, &height, &subsampling,
                            &colorspace) != 0 &&
        tjGetErrorCode(handle.get()) != TJERR_WARNING) {
        return decode_error(handle.get());
    }
    if (width != header.stored_width || height != header.stored_height) {
        return make_error(Errc::corrupt, "JPEG frame header and decoder disagree on the size");
    }

    const int pixel_format = pixel_format_for(colorspace);
    const int decoded_channels = tjPixelSize[pixel_format];
    Image decoded = make_image(width, height, decoded_channels);
    if (auto pixels = decompress(handle.get(), bytes, decoded, pixel_format); !pixels) {
        return pixels.error();
    }
    if (pixel_format == TJPF_CMYK) {
        Image rgb = make_image(width, height, 3);
        cmyk_to_rgb(decoded.pixels.data(), static_cast<std::size_t>(width) * height,
                    header.adobe_marker, rgb.pixels.data());
        decoded = std::move(rgb);
    }
    if (header.info.orientation != 1) {
        return orient(decoded, header.info.orientation, {});
    }
    return decoded;
}

Result<std::vector<std::uint8_t>> encode_jpeg(const Image& image, int quality) {
    TjHandle handle(tjInitCompress());
    if (!handle) {
        return make_error(Errc::encode_failed,
                          std::string("cannot start the JPEG encoder: ") + tjGetErrorStr2(nullptr));
    }

    // JPEG has no alpha: gray + alpha is repacked to gray, and RGBA is read as RGBX.
    const std::uint8_t* source = image.pixels.data();
    std::vector<std::uint8_t> gray;
    if (image.channels == 2) {
        gray.resize(static_cast<std::size_t>(image.width) * image.height);
        for (std::size_t i = 0; i < gray.size(); ++i) {
            gray[i] = image.pixels[2 * i];
        }
        source = gray.data();
    }
    const bool is_gray = image.channels <= 2;
    const int pixel_format = is_gray ? TJPF_GRAY : (image.channels == 3 ? TJPF_RGB : TJPF_RGBX);
    const int subsampling = is_gray ? TJSAMP_GRAY : TJSAMP_420;

    unsigned char* jpeg = nullptr;
    unsigned long jpeg_size = 0;
    const int status = tjCompress2(handle.get(), source, image.width, 0, image.height, pixel_format,
                                   &jpeg, &jpeg_size, subsampling, quality, 0);
    std::unique_ptr<unsigned char, TjBufferDeleter> owned(jpeg);
    if (status != 0) {
        return make_error(Errc::encode_failed, "JPEG encoding failed: " + tj_message(handle.get()));
    }
    return std::vector<std::uint8_t>(jpeg, jpeg + jpeg_size);
}

}  // namespace imgbus::imaging::detail
