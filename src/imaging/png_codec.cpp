// SPDX-License-Identifier: MIT
#include <png.h>
#include <zlib.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "codec_detail.hpp"

// libpng reports errors by longjmp to the setjmp in the caller. A longjmp skips destructors, so
// every function below that calls setjmp has only trivially destructible locals, and the
// callbacks libpng calls have none either. C++ objects (the pixel buffer, the row pointers, the
// output vector) live in the frames above, which the longjmp never crosses.
namespace imgbus::imaging::detail {
namespace {

// State shared with the libpng callbacks; trivially destructible on purpose.
struct PngIo {
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    std::size_t offset = 0;
    std::vector<std::uint8_t>* output = nullptr;
    bool truncated = false;
    char message[200] = {};
};

void on_error(png_structp png, png_const_charp message) {
    auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
    std::snprintf(io->message, sizeof io->message, "%s", message);
    png_longjmp(png, 1);
}

// Warnings (a bad CRC in an ancillary chunk, an odd ICC profile) leave the pixels intact.
void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep out, png_size_t length) {
    auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
    if (io->size - io->offset < length) {
        io->truncated = true;
        png_error(png, "unexpected end of data");
    }
    std::memcpy(out, io->data + io->offset, length);
    io->offset += length;
}

void write_bytes(png_structp png, png_bytep data, png_size_t length) {
    auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
    bool appended = true;
    try {
        io->output->insert(io->output->end(), data, data + length);
    } catch (const std::bad_alloc&) {
        appended = false;
    }
    if (!appended) {
        png_error(png, "out of memory while writing PNG");
    }
}

void flush_nothing(png_structp) {}

// Reads the header and sets the transforms that produce 8-bit gray, gray + alpha, RGB or RGBA.
bool read_header(png_structp png, png_infop info, int max_dimension) {
    if (setjmp(png_jmpbuf(png))) {
        return false;
    }
    png_set_user_limits(png, max_dimension, max_dimension);
    png_read_info(png, info);

    const int color_type = png_get_color_type(png, info);
    const int depth = png_get_bit_depth(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (png_get_valid(png, info, PNG_INFO_tRNS)) {
        png_set_tRNS_to_alpha(png);
    }
    if (depth == 16) {
        png_set_scale_16(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    return true;
}

bool read_rows(png_structp png, png_infop info, png_bytepp rows) {
    if (setjmp(png_jmpbuf(png))) {
        return false;
    }
    png_read_image(png, rows);
    // Reading to IEND checks the CRC of the last IDAT and finds a file cut after the pixels.
    png_read_end(png, info);
    return true;
}

int png_filter_flags(PngFilter filter) {
    switch (filter) {
        case PngFilter::none:
            return PNG_FILTER_NONE;
        case PngFilter::sub:
            return PNG_FILTER_SUB;
        case PngFilter::up:
            return PNG_FILTER_UP;
        case PngFilter::average:
            return PNG_FILTER_AVG;
        case PngFilter::paeth:
            return PNG_FILTER_PAETH;
        case PngFilter::adaptive:
            break;
    }
    return PNG_ALL_FILTERS;
}

bool write_image(png_structp png, png_infop info, const Image* image, png_bytepp rows,
                 int compression_level, PngFilter filter) {
    if (setjmp(png_jmpbuf(png))) {
        return false;
    }
    static constexpr int kColorTypes[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                          PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_compression_level(png, compression_level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, png_filter_flags(filter));
    png_set_IHDR(png, info, image->width, image->height, 8, kColorTypes[image->channels - 1],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, nullptr);
    return true;
}

class PngReader {
  public:
    explicit PngReader(PngIo* io) {
        png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
        if (png_) {
            info_ = png_create_info_struct(png_);
            png_set_read_fn(png_, io, read_bytes);
        }
    }
    ~PngReader() { png_destroy_read_struct(&png_, &info_, nullptr); }
    PngReader(const PngReader&) = delete;
    PngReader& operator=(const PngReader&) = delete;

    bool ready() const { return png_ != nullptr && info_ != nullptr; }
    png_structp png() const { return png_; }
    png_infop info() const { return info_; }

  private:
    png_structp png_ = nullptr;
    png_infop info_ = nullptr;
};

class PngWriter {
  public:
    explicit PngWriter(PngIo* io) {
        png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
        if (png_) {
            info_ = png_create_info_struct(png_);
            png_set_write_fn(png_, io, write_bytes, flush_nothing);
        }
    }
    ~PngWriter() { png_destroy_write_struct(&png_, &info_); }
    PngWriter(const PngWriter&) = delete;
    PngWriter& operator=(const PngWriter&) = delete;

    bool ready() const { return png_ != nullptr && info_ != nullptr; }
    png_structp png() const { return png_; }
    png_infop info() const { return info_; }

  private:
    png_structp png_ = nullptr;
    png_infop info_ = nullptr;
};

Error read_error(const PngIo& io) {
    if (io.truncated) {
        return make_error(Errc::truncated, "PNG data ends early at byte " +
                                               std::to_string(io.size) +
                                               "; the file is truncated, send the complete file");
    }
    return make_error(Errc::corrupt, std::string("PNG is corrupt: ") + io.message);
}

std::uint32_t read_u32(const std::uint8_t* at) {
    return (std::uint32_t{at[0]} << 24) | (std::uint32_t{at[1]} << 16) |
           (std::uint32_t{at[2]} << 8) | std::uint32_t{at[3]};
}

// Checks the CRC of every critical chunk up to IEND. libpng feeds IDAT to zlib before it reaches
// the CRC at the chunk's end, so a damaged IDAT would otherwise surface as an inflate error.
// Ancillary chunks (lower-case first letter) are left to libpng, which drops them on a bad CRC.
Result<void> check_chunk_crcs(Bytes bytes) {
    constexpr std::size_t kChunkOverhead = 12;
    std::size_t pos = 8;
    while (true) {
        if (bytes.size() - pos < kChunkOverhead) {
            return make_error(Errc::truncated,
                              "PNG data ends early at byte " + std::to_string(bytes.size()) +
                                  " before IEND; the file is truncated, send the complete file");
        }
        const std::uint32_t length = read_u32(bytes.data() + pos);
        if (length > bytes.size() - pos - kChunkOverhead) {
            return make_error(Errc::truncated, "PNG chunk at offset " + std::to_string(pos) +
                                                   " needs " + std::to_string(length) +
                                                   " bytes but the file ends first; the file is "
                                                   "truncated, send the complete file");
        }
        const std::uint8_t* type = bytes.data() + pos + 4;
        const bool critical = (type[0] & 0x20) == 0;
        if (critical) {
            const auto stored = read_u32(type + 4 + length);
            const auto computed = static_cast<std::uint32_t>(crc32(0, type, length + 4));
            if (stored != computed) {
                return make_error(Errc::corrupt, "PNG chunk " + std::string(type, type + 4) +
                                                     " at offset " + std::to_string(pos) +
                                                     " has a bad CRC; the file is damaged, send "
                                                     "an intact copy");
            }
        }
        if (std::memcmp(type, "IEND", 4) == 0) {
            return {};
        }
        pos += kChunkOverhead + length;
    }
}

template <class PixelPointer>
std::vector<PixelPointer> row_pointers(PixelPointer pixels, const Image& image) {
    std::vector<PixelPointer> rows(static_cast<std::size_t>(image.height));
    for (std::size_t y = 0; y < rows.size(); ++y) {
        rows[y] = pixels + y * image.stride();
    }
    return rows;
}

}  // namespace

Result<Image> decode_png(Bytes bytes, const ImageInfo& header, const DecodeLimits& limits) {
    if (auto intact = check_chunk_crcs(bytes); !intact) {
        return intact.error();
    }
    PngIo io;
    io.data = bytes.data();
    io.size = bytes.size();
    PngReader reader(&io);
    if (!reader.ready()) {
        return make_error(Errc::corrupt, "cannot start the PNG decoder (out of memory)");
    }
    if (!read_header(reader.png(), reader.info(), limits.max_dimension)) {
        return read_error(io);
    }

    const int width = static_cast<int>(png_get_image_width(reader.png(), reader.info()));
    const int height = static_cast<int>(png_get_image_height(reader.png(), reader.info()));
    const int channels = png_get_channels(reader.png(), reader.info());
    if (width != header.width || height != header.height || channels != header.channels ||
        png_get_rowbytes(reader.png(), reader.info()) !=
            static_cast<std::size_t>(width) * channels) {
        return make_error(Errc::corrupt, "PNG header and decoder disagree on the image shape");
    }

    Image image = make_image(width, height, channels);
    auto rows = row_pointers(image.pixels.data(), image);
    if (!read_rows(reader.png(), reader.info(), rows.data())) {
        return read_error(io);
    }
    return image;
}

Result<std::vector<std::uint8_t>> encode_png(const Image& image, int compression_level,
                                             PngFilter filter) {
    std::vector<std::uint8_t> output;
    PngIo io;
    io.output = &output;
    PngWriter writer(&io);
    if (!writer.ready()) {
        return make_error(Errc::encode_failed, "cannot start the PNG encoder (out of memory)");
    }
    // libpng 1.6 takes row pointers to non-const bytes but only reads them when writing.
    auto rows = row_pointers(const_cast<std::uint8_t*>(image.pixels.data()), image);
    if (!write_image(writer.png(), writer.info(), &image, rows.data(), compression_level, filter)) {
        return make_error(Errc::encode_failed, std::string("PNG encoding failed: ") + io.message);
    }
    return output;
}

}  // namespace imgbus::imaging::detail
