// SPDX-License-Identifier: MIT
// Google Benchmark of every registered operation at 2 and 12 megapixels with 1 and 2 OpenMP
// threads. docs/benchmarks.md ("Operations") records the figures next to libvips.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>

#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/operation.hpp"

namespace imaging = imgbus::imaging;

namespace {

struct Size {
    const char* name;
    int width;
    int height;
};

constexpr Size kSizes[] = {{"2MP", 1920, 1080}, {"12MP", 4000, 3000}};

// Parameters that make each operation do typical work; the others run with their defaults, and
// resize halves the width (params_for).
const std::map<std::string, std::map<std::string, std::string>> kParams = {
    {"crop", {{"x", "100"}, {"y", "100"}}},
    {"brightness_contrast", {{"brightness", "10"}, {"contrast", "20"}}},
};

imaging::Image load_photo() {
    std::ifstream file(std::string(IMGBUS_TEST_DATA_DIR) + "/test.jpg", std::ios::binary);
    std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(file), {}};
    auto image = imaging::decode(bytes);
    if (!image) {
        throw std::runtime_error("cannot decode tests/data/test.jpg: " + image.error().message);
    }
    return std::move(image).value();
}

// test.jpg scaled to the size by nearest neighbour, so the kernels see photo content.
const imaging::Image& photo(const Size& size) {
    static std::map<int, imaging::Image> cache;
    auto& image = cache[size.width];
    if (!image.pixels.empty()) {
        return image;
    }
    static const imaging::Image source = load_photo();
    image = imaging::make_image(size.width, size.height, source.channels);
    for (int y = 0; y < size.height; ++y) {
        const auto* row = source.row(static_cast<int>(long{y} * source.height / size.height));
        for (int x = 0; x < size.width; ++x) {
            const auto sx = static_cast<std::size_t>(long{x} * source.width / size.width);
            std::memcpy(image.row(y) + static_cast<std::size_t>(x) * image.channels,
                        row + sx * source.channels, static_cast<std::size_t>(source.channels));
        }
    }
    return image;
}

std::map<std::string, std::string> params_for(const std::string& op, const Size& size) {
    if (op == "resize") {
        return {{"width", std::to_string(size.width / 2)}};
    }
    const auto found = kParams.find(op);
    return found == kParams.end() ? std::map<std::string, std::string>{} : found->second;
}

void run_operation(benchmark::State& state, const imaging::Operation* operation, Size size,
                   int threads) {
    const auto& input = photo(size);
    auto params = imaging::OperationRegistry::global().validate(operation->name,
                                                                params_for(operation->name, size));
    if (!params) {
        state.SkipWithError(params.error().message.c_str());
        return;
    }
    for (auto _ : state) {
        auto output = operation->kernel(input, *params, {threads, 1});
        benchmark::DoNotOptimize(output);
    }
    state.SetLabel(std::string(size.name) + " RGB");
    state.counters["Mpx/s"] = benchmark::Counter(
        static_cast<double>(size.width) * size.height * 1e-6 * state.iterations(),
        benchmark::Counter::kIsRate);
}

void register_all() {
    for (const auto* operation : imaging::OperationRegistry::global().list()) {
        for (const auto& size : kSizes) {
            for (int threads : {1, 2}) {
                const std::string name =
                    operation->name + "/" + size.name + "/threads:" + std::to_string(threads);
                benchmark::RegisterBenchmark(name.c_str(), run_operation, operation, size, threads)
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime();
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
