// SPDX-License-Identifier: MIT
// Google Benchmark of the grayscale kernel against memcpy of the same input bytes, and of the
// JPEG and PNG codecs. Figures and the command that produced them are in docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

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

void grayscale_kernel(benchmark::State& state) {
    const Size size = kSizes[state.range(0)];
    const int threads = static_cast<int>(state.range(1));
    const auto input = photo_of_size(size.width, size.height);
    for (auto _ : state) {
        auto output = imaging::grayscale(input, threads);
        benchmark::DoNotOptimize(output.pixels.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.byte_size()));
    set_label(state, size.width, size.height);
}

// The same input bytes copied into a buffer of their size: the bandwidth ceiling of one pass.
void memcpy_reference(benchmark::State& state) {
    const Size size = kSizes[state.range(0)];
    const auto input = photo_of_size(size.width, size.height);
    std::vector<std::uint8_t> copy(input.byte_size());
    for (auto _ : state) {
        std::memcpy(copy.data(), input.pixels.data(), input.byte_size());
        benchmark::DoNotOptimize(copy.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.byte_size()));
    set_label(state, size.width, size.height);
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

}  // namespace

BENCHMARK(grayscale_kernel)
    ->ArgsProduct({{0, 1, 2}, {1, 2}})
    ->ArgNames({"size", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(memcpy_reference)->DenseRange(0, 2)->ArgName("size")->Unit(benchmark::kMillisecond);
BENCHMARK(jpeg_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(jpeg_encode)->Unit(benchmark::kMillisecond);
BENCHMARK(png_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(png_encode)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
