// SPDX-License-Identifier: MIT
// Google Benchmark of the grayscale kernel against memcpy of the same input bytes, on 1 and 2
// threads, and of the JPEG and PNG codecs. Figures and the command that produced them are in
// docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "grayscale_row.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/grayscale.hpp"

namespace imaging = imgbus::imaging;

namespace {

struct Size {
    int width;
    int height;
};

// 0.3, 2 and 12 megapixels.
constexpr Size kSizes[] = {{640, 480}, {1920, 1080}, {4000, 3000}};

imaging::Image load_photo() {
    std::ifstream file(std::string(IMGBUS_TEST_DATA_DIR) + "/test.jpg", std::ios::binary);
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(file),
                                    std::istreambuf_iterator<char>()};
    auto image = imaging::decode(bytes);
    if (!image) {
        throw std::runtime_error("cannot decode tests/data/test.jpg: " + image.error().message);
    }
    return std::move(image).value();
}

// test.jpg resized to the given size with nearest-neighbour sampling, so that the codecs see
// photo content rather than noise.
imaging::Image photo_of_size(int width, int height) {
    static const imaging::Image photo = load_photo();
    imaging::Image image = imaging::make_image(width, height, photo.channels);
    for (int y = 0; y < height; ++y) {
        const int source_y = static_cast<int>(static_cast<long>(y) * photo.height / height);
        for (int x = 0; x < width; ++x) {
            const int source_x = static_cast<int>(static_cast<long>(x) * photo.width / width);
            std::memcpy(image.row(y) + static_cast<std::size_t>(x) * image.channels,
                        photo.row(source_y) + static_cast<std::size_t>(source_x) * photo.channels,
                        static_cast<std::size_t>(photo.channels));
        }
    }
    return image;
}

void set_label(benchmark::State& state, int width, int height) {
    state.SetLabel(std::to_string(width) + "x" + std::to_string(height));
}

void set_bandwidth(benchmark::State& state, const imaging::Image& input) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.byte_size()));
    set_label(state, input.width, input.height);
}

// The public kernel: allocates the gray output and runs the OpenMP rows.
void grayscale_kernel(benchmark::State& state) {
    const Size size = kSizes[state.range(0)];
    const int threads = static_cast<int>(state.range(1));
    const auto input = photo_of_size(size.width, size.height);
    for (auto _ : state) {
        auto output = imaging::grayscale(input, threads);
        benchmark::DoNotOptimize(output.pixels.data());
    }
    set_bandwidth(state, input);
}

// The row function alone into a reused output, as the streaming path calls it: impl 0 is GCC's
// vectorisation of the scalar loop, impl 1 the AVX2 intrinsics (on a CPU with AVX2).
void grayscale_rows(benchmark::State& state) {
    const Size size = kSizes[state.range(0)];
    const int threads = static_cast<int>(state.range(1));
    const bool intrinsics = state.range(2) == 1;
    const auto input = photo_of_size(size.width, size.height);
    auto output = imaging::make_image(size.width, size.height, 1);
    for (auto _ : state) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int y = 0; y < size.height; ++y) {
            if (intrinsics) {
                imaging::grayscale_rgb_row(input.row(y), output.row(y), size.width);
            } else {
                imaging::detail::gray_row_rgb_vectorised(input.row(y), output.row(y), size.width);
            }
        }
        benchmark::DoNotOptimize(output.pixels.data());
        benchmark::ClobberMemory();
    }
    set_bandwidth(state, input);
}

// The same input bytes copied into a buffer of their size, split by rows over the threads: the
// bandwidth ceiling of one pass.
void memcpy_reference(benchmark::State& state) {
    const Size size = kSizes[state.range(0)];
    const int threads = static_cast<int>(state.range(1));
    const auto input = photo_of_size(size.width, size.height);
    std::vector<std::uint8_t> copy(input.byte_size());
    const std::size_t stride = input.stride();
    for (auto _ : state) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int y = 0; y < size.height; ++y) {
            std::memcpy(copy.data() + stride * static_cast<std::size_t>(y), input.row(y), stride);
        }
        benchmark::DoNotOptimize(copy.data());
        benchmark::ClobberMemory();
    }
    set_bandwidth(state, input);
}

void codec_decode(benchmark::State& state, imaging::Format format, Size size) {
    const auto image = photo_of_size(size.width, size.height);
    imaging::EncodeOptions options;
    options.jpeg_quality = 92;
    const auto encoded = imaging::encode(image, format, options);
    if (!encoded) {
        state.SkipWithError(encoded.error().message.c_str());
        return;
    }
    for (auto _ : state) {
        auto decoded = imaging::decode(*encoded);
        benchmark::DoNotOptimize(decoded.ok());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * image.byte_size()));
    set_label(state, size.width, size.height);
}

void codec_encode(benchmark::State& state, imaging::Format format, Size size) {
    const auto image = photo_of_size(size.width, size.height);
    for (auto _ : state) {
        auto encoded = imaging::encode(image, format);
        benchmark::DoNotOptimize(encoded.ok());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * image.byte_size()));
    set_label(state, size.width, size.height);
}

void jpeg_decode(benchmark::State& state) { codec_decode(state, imaging::Format::jpeg, kSizes[2]); }
void jpeg_encode(benchmark::State& state) { codec_encode(state, imaging::Format::jpeg, kSizes[2]); }
void png_decode(benchmark::State& state) { codec_decode(state, imaging::Format::png, kSizes[1]); }
void png_encode(benchmark::State& state) { codec_encode(state, imaging::Format::png, kSizes[1]); }

// PNG encode of the 2 MP photo with one zlib level and row filter. The counter "ratio" is the
// file size as a share of the raw pixel bytes.
void png_encode_settings(benchmark::State& state) {
    const auto image = photo_of_size(kSizes[1].width, kSizes[1].height);
    imaging::EncodeOptions options;
    options.png_compression = static_cast<int>(state.range(0));
    options.png_filter = static_cast<imaging::PngFilter>(state.range(1));
    std::size_t size = 0;
    for (auto _ : state) {
        auto encoded = imaging::encode(image, imaging::Format::png, options);
        size = encoded.ok() ? encoded->size() : 0;
        benchmark::DoNotOptimize(size);
    }
    state.counters["ratio"] = static_cast<double>(size) / static_cast<double>(image.byte_size());
    state.SetLabel(std::string(imaging::png_filter_name(options.png_filter)));
}

}  // namespace

BENCHMARK(png_encode_settings)
    ->ArgsProduct({{1, 3, 6}, {0, 1, 2, 4, 5}})
    ->ArgNames({"level", "filter"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(grayscale_kernel)
    ->ArgsProduct({{0, 1, 2}, {1, 2}})
    ->ArgNames({"size", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(grayscale_rows)
    ->ArgsProduct({{0, 1, 2}, {1, 2}, {0, 1}})
    ->ArgNames({"size", "threads", "avx2"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(memcpy_reference)
    ->ArgsProduct({{0, 1, 2}, {1, 2}})
    ->ArgNames({"size", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(jpeg_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(jpeg_encode)->Unit(benchmark::kMillisecond);
BENCHMARK(png_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(png_encode)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
