// SPDX-License-Identifier: MIT
// The streaming JPEG to gray JPEG codec: libjpeg's decoder fills strips of rows on the calling
// thread, and libjpeg's encoder, on a second thread, turns each strip gray and writes it to a
// ByteSink through a fixed buffer. The encoder settings match encode(), so the whole-image path
// and this one give the same file.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "codec_detail.hpp"
#include "imgbus/imaging/grayscale.hpp"
#include "imgbus/imaging/populated_buffer.hpp"
#include "imgbus/imaging/stream.hpp"
#include "jpeg_sink.hpp"
#include "libjpeg_errors.hpp"
#include "strip_queue.hpp"

namespace imgbus::imaging {
namespace {

using Clock = std::chrono::steady_clock;

constexpr JDIMENSION kRowsPerCall = 16;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The decoder: its libjpeg state lives here, outside the frames that call setjmp.
struct Decoder {
    jpeg_decompress_struct cinfo;
    detail::JpegErrorManager errors{};
    bool created = false;
    bool luma = false;      // decoding a YCbCr file straight to its Y channel
    bool inverted = false;  // CMYK stored inverted, as Adobe applications do
    double seconds = 0;
};

// The encoder, running on its own thread.
struct Encoder {
    jpeg_compress_struct cinfo;
    detail::JpegErrorManager errors{};
    bool created = false;
    detail::JpegSinkDestination destination;
    ByteSink* sink = nullptr;
    int quality = 90;
    Image* copy = nullptr;  // StreamOptions::gray_rows
    int copied_rows = 0;
    double seconds = 0;
    double kernel_seconds = 0;
};

J_COLOR_SPACE output_space(J_COLOR_SPACE file_space, bool allow_luma) {
    switch (file_space) {
        case JCS_GRAYSCALE:
            return JCS_GRAYSCALE;
        case JCS_YCbCr:
            return allow_luma ? JCS_GRAYSCALE : JCS_RGB;
        case JCS_CMYK:
        case JCS_YCCK:
            return JCS_CMYK;
        default:
            return JCS_RGB;
    }
}

// Reads the headers and starts the decompressor (which, for a progressive file, reads every
// scan). Returns false when libjpeg failed.
bool start_decoder(Decoder& decoder, detail::Bytes bytes, bool allow_luma) {
    auto& cinfo = decoder.cinfo;
    detail::install_error_manager(reinterpret_cast<j_common_ptr>(&cinfo), decoder.errors);
    if (setjmp(decoder.errors.jump) != 0) {
        return false;
    }
    jpeg_create_decompress(&cinfo);
    decoder.created = true;
    detail::install_scan_limit(&cinfo, decoder.errors);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);
    decoder.luma = allow_luma && cinfo.jpeg_color_space == JCS_YCbCr;
    cinfo.out_color_space = output_space(cinfo.jpeg_color_space, allow_luma);
    jpeg_start_decompress(&cinfo);
    return true;
}

// Fills strips until the last row and sends them. Returns false when libjpeg failed; stops
// early, returning true, when the encoder cancelled.
bool decode_rows(Decoder& decoder, detail::StripQueue& queue, int strip_rows) {
    auto& cinfo = decoder.cinfo;
    if (setjmp(decoder.errors.jump) != 0) {
        return false;
    }
    const std::size_t stride =
        static_cast<std::size_t>(cinfo.output_width) * cinfo.output_components;
    while (cinfo.output_scanline < cinfo.output_height) {
        detail::Strip* strip = queue.take_empty();
        if (strip == nullptr) {
            return true;
        }
        const auto start = Clock::now();
        const JDIMENSION requested = std::min<JDIMENSION>(
            static_cast<JDIMENSION>(strip_rows), cinfo.output_height - cinfo.output_scanline);
        // Several rows per call, so that libjpeg can write a whole row group (two rows for
        // 4:2:0) in place instead of through its spare buffer.
        JSAMPROW row_pointers[kRowsPerCall];
        JDIMENSION rows = 0;
        while (rows < requested) {
            const JDIMENSION count = std::min<JDIMENSION>(kRowsPerCall, requested - rows);
            for (JDIMENSION i = 0; i < count; ++i) {
                row_pointers[i] = strip->pixels + stride * (rows + i);
            }
            rows += jpeg_read_scanlines(&cinfo, row_pointers, count);
        }
        strip->rows = static_cast<int>(rows);
        decoder.seconds += seconds_since(start);
        queue.send(strip);
    }
    const auto start = Clock::now();
    jpeg_finish_decompress(&cinfo);
    decoder.seconds += seconds_since(start);
    return true;
}

void start_encoder(Encoder& encoder, int width, int height) {
    auto& cinfo = encoder.cinfo;
    jpeg_create_compress(&cinfo);
    encoder.created = true;
    detail::install_sink_destination(&cinfo, encoder.destination, *encoder.sink);
    cinfo.image_width = static_cast<JDIMENSION>(width);
    cinfo.image_height = static_cast<JDIMENSION>(height);
    cinfo.input_components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    // The settings of TurboJPEG's tjCompress2, which encode() uses: the fast integer DCT below
    // quality 96, and gray with one sample per pixel.
    jpeg_set_quality(&cinfo, encoder.quality, TRUE);
    cinfo.dct_method = encoder.quality >= 96 ? JDCT_ISLOW : JDCT_FASTEST;
    jpeg_set_colorspace(&cinfo, JCS_GRAYSCALE);
    cinfo.comp_info[0].h_samp_factor = 1;
    cinfo.comp_info[0].v_samp_factor = 1;
    jpeg_start_compress(&cinfo, TRUE);
}

// Turns one strip of decoded rows gray in `gray`; `rgb` is scratch for one row
// of CMYK input.
void gray_strip(const detail::Strip& strip, int width, int components, bool inverted,
                std::uint8_t* rgb, std::uint8_t* gray) {
    const auto pixels = static_cast<std::size_t>(width);
    for (int y = 0; y < strip.rows; ++y) {
        const std::uint8_t* in = strip.pixels + pixels * components * y;
        if (components == 4) {
            detail::cmyk_to_rgb(in, pixels, inverted, rgb);
            in = rgb;
        }
        grayscale_rgb_row(in, gray + pixels * y, width);
    }
}

void keep_copy(Encoder& encoder, const std::uint8_t* rows, int width, int count) {
    if (encoder.copy == nullptr) {
        return;
    }
    const auto bytes = static_cast<std::size_t>(width) * count;
    std::copy(rows, rows + bytes, encoder.copy->row(encoder.copied_rows));
    encoder.copied_rows += count;
}

// Receives strips, turns them gray where needed and writes them until the decoder finishes.
// Returns false when libjpeg failed.
bool encode_rows(Encoder& encoder, detail::StripQueue& queue, const Decoder& decoder,
                 std::uint8_t* rgb, std::uint8_t* gray) {
    auto& cinfo = encoder.cinfo;
    if (setjmp(encoder.errors.jump) != 0) {
        return false;
    }
    const auto start = Clock::now();
    const int width = static_cast<int>(decoder.cinfo.output_width);
    const int components = decoder.cinfo.output_components;
    const int height = static_cast<int>(decoder.cinfo.output_height);
    if (encoder.copy != nullptr) {
        *encoder.copy = make_image(width, height, 1);
    }
    start_encoder(encoder, width, height);
    encoder.seconds += seconds_since(start);
    while (detail::Strip* strip = queue.receive()) {
        std::uint8_t* rows = strip->pixels;
        if (components != 1) {
            const auto kernel_start = Clock::now();
            gray_strip(*strip, width, components, decoder.inverted, rgb, gray);
            encoder.kernel_seconds += seconds_since(kernel_start);
            rows = gray;
        }
        keep_copy(encoder, rows, width, strip->rows);
        const auto write_start = Clock::now();
        for (int y = 0; y < strip->rows; ++y) {
            JSAMPROW row = rows + static_cast<std::size_t>(width) * y;
            jpeg_write_scanlines(&cinfo, &row, 1);
        }
        encoder.seconds += seconds_since(write_start);
        queue.give_back(strip);
    }
    if (queue.cancelled()) {
        return true;
    }
    const auto finish_start = Clock::now();
    jpeg_finish_compress(&cinfo);
    encoder.seconds += seconds_since(finish_start);
    return true;
}

// The encoder thread's body: scratch buffers live here, outside encode_rows' setjmp frame.
Result<void> run_encoder(Encoder& encoder, detail::StripQueue& queue, const Decoder& decoder,
                         int strip_rows) {
    // Every byte is written before it is read, so neither buffer needs zero-filling. The gray
    // strip is populated up front because the first strip writes all of it.
    const std::size_t width = decoder.cinfo.output_width;
    std::unique_ptr<std::uint8_t[]> rgb;
    if (decoder.cinfo.output_components == 4) {
        rgb = std::make_unique_for_overwrite<std::uint8_t[]>(width * 3);
    }
    PopulatedBuffer gray;
    if (decoder.cinfo.output_components != 1) {
        gray = PopulatedBuffer(width * static_cast<std::size_t>(strip_rows));
    }
    detail::install_error_manager(reinterpret_cast<j_common_ptr>(&encoder.cinfo), encoder.errors);
    if (encode_rows(encoder, queue, decoder, rgb.get(), gray.data())) {
        return {};
    }
    queue.cancel();
    if (encoder.destination.error) {
        return make_error(Errc::encode_failed, encoder.destination.error->message);
    }
    return make_error(Errc::encode_failed,
                      std::string("JPEG encoding failed: ") + encoder.errors.message);
}

// Frees the libjpeg state whatever happened.
struct CodecGuard {
    Decoder& decoder;
    Encoder& encoder;
    ~CodecGuard() {
        if (decoder.created) {
            jpeg_destroy_decompress(&decoder.cinfo);
        }
        if (encoder.created) {
            jpeg_destroy_compress(&encoder.cinfo);
        }
    }
};

Result<void> check_stream_request(const detail::JpegHeader& header, const StreamOptions& options) {
    if (header.info.orientation != 1) {
        return make_error(Errc::invalid_argument,
                          "the streaming path cannot turn a JPEG by its EXIF orientation " +
                              std::to_string(header.info.orientation) +
                              "; use the whole-image path");
    }
    if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
        return make_error(
            Errc::invalid_argument,
            "JPEG quality " + std::to_string(options.jpeg_quality) + " is out of range 1..100");
    }
    if (options.strip_rows < 1 || options.strips < 2) {
        return make_error(Errc::invalid_argument,
                          "the streaming path needs strips of at least 1 row and 2 strips");
    }
    return {};
}

// Runs the decoder on this thread and the encoder on a second one. Fills `result` on success.
Result<void> run_stream(detail::Bytes bytes, const detail::JpegHeader& header,
                        const StreamOptions& options, Decoder& decoder, Encoder& encoder) {
    const auto start = Clock::now();
    if (!start_decoder(decoder, bytes, options.luma)) {
        return detail::jpeg_verdict(decoder.errors, false);
    }
    decoder.seconds += seconds_since(start);
    const auto& cinfo = decoder.cinfo;
    if (static_cast<int>(cinfo.image_width) != header.stored_width ||
        static_cast<int>(cinfo.image_height) != header.stored_height) {
        return make_error(Errc::corrupt, "JPEG frame header and decoder disagree on the size");
    }
    decoder.inverted = header.adobe_marker;
    detail::StripQueue queue(options.strips, static_cast<std::size_t>(cinfo.output_width) *
                                                 cinfo.output_components * options.strip_rows);

    Result<void> encoded;
    std::thread encoder_thread(
        [&] { encoded = run_encoder(encoder, queue, decoder, options.strip_rows); });
    const bool decoded = decode_rows(decoder, queue, options.strip_rows);
    if (decoded && !queue.cancelled()) {
        queue.finish();
    } else {
        queue.cancel();
    }
    encoder_thread.join();

    auto verdict = detail::jpeg_verdict(decoder.errors, decoded);
    if (!verdict) {
        return verdict;
    }
    return encoded;
}

}  // namespace

Result<StreamStats> stream_grayscale_jpeg(std::span<const std::uint8_t> bytes,
                                          const DecodeLimits& limits, const StreamOptions& options,
                                          ByteSink& sink) {
    if (!detail::has_jpeg_signature(bytes)) {
        // probe() names empty and unknown input; a PNG is valid but not for this path.
        auto info = probe(bytes, limits);
        if (!info) {
            return info.error();
        }
        return make_error(Errc::invalid_argument,
                          "the streaming path reads JPEG only; use the whole-image path for PNG");
    }
    auto header = detail::read_jpeg_header(bytes, limits);
    if (!header) {
        return header.error();
    }
    if (auto valid = check_stream_request(*header, options); !valid) {
        return valid.error();
    }
    Decoder decoder;
    Encoder encoder;
    encoder.quality = options.jpeg_quality;
    encoder.copy = options.gray_rows;
    encoder.sink = &sink;
    CodecGuard guard{decoder, encoder};
    if (auto streamed = run_stream(bytes, *header, options, decoder, encoder); !streamed) {
        return streamed.error();
    }
    StreamStats stats;
    stats.width = static_cast<int>(decoder.cinfo.output_width);
    stats.height = static_cast<int>(decoder.cinfo.output_height);
    stats.path = decoder.luma ? KernelPath::luma_stream : KernelPath::stream;
    stats.decode_seconds = decoder.seconds;
    stats.kernel_seconds = encoder.kernel_seconds;
    stats.encode_seconds = encoder.seconds;
    return stats;
}

Result<StreamResult> stream_grayscale_jpeg(std::span<const std::uint8_t> bytes,
                                           const DecodeLimits& limits,
                                           const StreamOptions& options) {
    // A gray JPEG at the usual qualities is smaller than the colour JPEG it comes from, so the
    // input size is a reservation that the output rarely outgrows.
    VectorSink sink(bytes.size());
    auto stats = stream_grayscale_jpeg(bytes, limits, options, sink);
    if (!stats) {
        return stats.error();
    }
    StreamResult result;
    static_cast<StreamStats&>(result) = *stats;
    result.bytes = sink.take();
    return result;
}

}  // namespace imgbus::imaging
