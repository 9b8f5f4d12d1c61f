// SPDX-License-Identifier: MIT
#include "imgbus/imaging/grayscale.hpp"

#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cstdint>

#include "grayscale_row.hpp"
#include "operations.hpp"

namespace imgbus::imaging {
namespace {

// BT.601 weights in 8.8 fixed point; 77 + 150 + 29 = 256. The largest sum,
// 256 * 255 + 128, fits in 16 bits, which lets the vectoriser use 16-bit lanes.
constexpr unsigned kRed = 77;
constexpr unsigned kGreen = 150;
constexpr unsigned kBlue = 29;
constexpr unsigned kRound = 128;

inline std::uint8_t luma(unsigned r, unsigned g, unsigned b) {
    return static_cast<std::uint8_t>(
        static_cast<std::uint16_t>(kRed * r + kGreen * g + kBlue * b + kRound) >> 8);
}

// One row per call. The loops take `in` and `out` as restrict pointers and have no
// branches, so GCC turns them into SIMD code; docs/imaging.md lists what -fopt-info-vec found.
// The stride-3 loads of RGB need byte shuffles (SSSE3), which the x86-64 baseline lacks, so
// each row function is cloned for AVX2 and SSSE3 and the loader picks one for the CPU.
#if defined(__x86_64__)
#define IMGBUS_ROW_CLONES __attribute__((target_clones("avx2", "ssse3", "default")))
#else
#define IMGBUS_ROW_CLONES
#endif

}  // namespace

namespace detail {

IMGBUS_ROW_CLONES void gray_row_rgb_vectorised(const std::uint8_t* __restrict in,
                                               std::uint8_t* __restrict out, int width) noexcept {
    for (int x = 0; x < width; ++x) {
        out[x] = luma(in[3 * x], in[3 * x + 1], in[3 * x + 2]);
    }
}

}  // namespace detail

namespace {

#if defined(__x86_64__)
bool has_avx2() {
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return has;
}
#endif

// The AVX2 intrinsics where the CPU has them, for blocks of 32 pixels; the vectorised loop for
// the rest and on other CPUs.
void gray_row_rgb(const std::uint8_t* in, std::uint8_t* out, int width) noexcept {
    int done = 0;
#if defined(__x86_64__)
    if (has_avx2()) {
        done = detail::gray_row_rgb_avx2(in, out, width);
    }
#endif
    detail::gray_row_rgb_vectorised(in + 3 * static_cast<std::ptrdiff_t>(done), out + done,
                                    width - done);
}

IMGBUS_ROW_CLONES void gray_row_rgba(const std::uint8_t* __restrict in,
                                     std::uint8_t* __restrict out, int width) noexcept {
    for (int x = 0; x < width; ++x) {
        out[2 * x] = luma(in[4 * x], in[4 * x + 1], in[4 * x + 2]);
        out[2 * x + 1] = in[4 * x + 3];
    }
}

void gray_row(const Image& input, Image& output, int y) noexcept {
    if (input.channels == 3) {
        gray_row_rgb(input.row(y), output.row(y), input.width);
    } else {
        gray_row_rgba(input.row(y), output.row(y), input.width);
    }
}

Image make_output(const Image& input) {
    return make_image(input.width, input.height, input.has_alpha() ? 2 : 1);
}

}  // namespace

Image grayscale(const Image& input, int threads, int passes) {
    assert(input.channels >= 1 && input.channels <= 4);
    assert(input.pixels.size() == input.byte_size());
    if (input.channels <= 2) {
        return input;
    }
    Image output = make_output(input);
    threads = std::max(threads, 1);
    passes = std::max(passes, 1);
    const int height = input.height;

    // Everything in the region is noexcept and the output is allocated above, so no exception
    // can leave it. A static schedule gives each thread one block of whole rows, and every row
    // is computed the same way whichever thread takes it, so the bytes match for any count.
#pragma omp parallel num_threads(threads) default(none) shared(input, output, height, passes)
    for (int pass = 0; pass < passes; ++pass) {
#pragma omp for schedule(static)
        for (int y = 0; y < height; ++y) {
            gray_row(input, output, y);
        }
    }
    return output;
}

void grayscale_rgb_row(const std::uint8_t* in, std::uint8_t* out, int width) noexcept {
    gray_row_rgb(in, out, width);
}

Image grayscale_reference(const Image& input) {
    if (input.channels <= 2) {
        return input;
    }
    Image output = make_output(input);
    const std::size_t pixels = static_cast<std::size_t>(input.width) * input.height;
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint8_t* p = input.pixels.data() + i * input.channels;
        const unsigned sum = 77 * p[0] + 150 * p[1] + 29 * p[2] + 128;
        std::uint8_t* q = output.pixels.data() + i * output.channels;
        q[0] = static_cast<std::uint8_t>(sum >> 8);
        if (input.channels == 4) {
            q[1] = p[3];
        }
    }
    return output;
}

namespace detail {

Operation make_grayscale() {
    Operation operation;
    operation.name = "grayscale";
    operation.description =
        "Converts to 8-bit gray with the BT.601 luma weights (0.299 R + 0.587 G + 0.114 B); "
        "keeps alpha, copies gray input through";
    operation.kernel = [](const Image& input, const ParamValues&,
                          const KernelContext& context) -> Result<Image> {
        return grayscale(input, context.threads, context.passes);
    };
    return operation;
}

}  // namespace detail

}  // namespace imgbus::imaging
