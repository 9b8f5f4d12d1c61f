// SPDX-License-Identifier: MIT
// Separable convolutions: gaussian_blur, box_blur and sharpen (an unsharp mask over a Gaussian).
#include <cmath>
#include <vector>

#include "kernel_support.hpp"
#include "operations.hpp"

namespace imgbus::imaging::detail {
namespace {

// Normalised weights of a symmetric 1-D kernel; weights[radius] is the centre tap.
struct Taps {
    int radius = 0;
    std::vector<float> weights;
};

Taps gaussian_taps(double sigma) {
    Taps taps;
    taps.radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
    taps.weights.resize(2 * taps.radius + 1);
    double sum = 0;
    for (int i = -taps.radius; i <= taps.radius; ++i) {
        const double weight = std::exp(-(i * i) / (2 * sigma * sigma));
        taps.weights[i + taps.radius] = static_cast<float>(weight);
        sum += weight;
    }
    for (auto& weight : taps.weights) {
        weight = static_cast<float>(weight / sum);
    }
    return taps;
}

Taps box_taps(int radius) {
    Taps taps;
    taps.radius = radius;
    taps.weights.assign(2 * radius + 1, 1.0f / static_cast<float>(2 * radius + 1));
    return taps;
}

// Per-thread rows: the vertical sums of one output row, with `radius` pixels of edge copies on
// either side so that the horizontal loop needs no bounds checks.
struct Scratch {
    std::vector<std::vector<float>> rows;
    Scratch(const Image& image, int radius, int threads)
        : rows(scratch_slots(threads),
               std::vector<float>((image.width + 2 * static_cast<std::size_t>(radius)) *
                                  image.channels)) {}
};

// Vertical pass for row y into `padded`, rows above and below the image clamped to the edge.
void vertical_sums(const Image& in, const Taps& taps, int y, float* padded) noexcept {
    const std::size_t stride = in.stride();
    float* out = padded + static_cast<std::size_t>(taps.radius) * in.channels;
    std::fill(out, out + stride, 0.0f);
    for (int k = -taps.radius; k <= taps.radius; ++k) {
        const std::uint8_t* source = in.row(std::clamp(y + k, 0, in.height - 1));
        const float weight = taps.weights[k + taps.radius];
        for (std::size_t i = 0; i < stride; ++i) {
            out[i] += weight * source[i];
        }
    }
    const int channels = in.channels;
    for (int x = 0; x < taps.radius; ++x) {
        for (int c = 0; c < channels; ++c) {
            padded[x * channels + c] = out[c];
            out[stride + x * channels + c] = out[stride - channels + c];
        }
    }
}

// Horizontal pass over the padded row: the blurred value of colour channel c at pixel x.
inline float horizontal_sum(const float* padded, const Taps& taps, int channels, int x,
                            int c) noexcept {
    const float* p = padded + static_cast<std::size_t>(x) * channels + c;
    float sum = 0;
    for (int k = 0; k <= 2 * taps.radius; ++k) {
        sum += taps.weights[k] * p[k * channels];
    }
    return sum;
}

// Blurs colour channels with the separable kernel, copies alpha; `combine(original, blurred)`
// gives each output value.
template <class Combine>
Image convolve(const Image& in, const Taps& taps, const KernelContext& context,
               const Combine& combine) {
    Image out = make_image(in.width, in.height, in.channels);
    Scratch scratch(in, taps.radius, context.threads);
    const int colors = color_channels(in);
    parallel_rows(in.height, context.threads, context.passes, [&](int y, int thread) noexcept {
        float* padded = scratch.rows[thread].data();
        vertical_sums(in, taps, y, padded);
        const std::uint8_t* source = in.row(y);
        std::uint8_t* target = out.row(y);
        for (int x = 0; x < in.width; ++x) {
            const std::size_t at = static_cast<std::size_t>(x) * in.channels;
            for (int c = 0; c < colors; ++c) {
                const float blurred = horizontal_sum(padded, taps, in.channels, x, c);
                target[at + c] = combine(source[at + c], blurred);
            }
            if (colors < in.channels) {
                target[at + colors] = source[at + colors];
            }
        }
    });
    return out;
}

std::uint8_t keep_blurred(std::uint8_t, float blurred) noexcept { return clamp_byte(blurred); }

Result<Image> gaussian_blur(const Image& in, const ParamValues& params,
                            const KernelContext& context) {
    return convolve(in, gaussian_taps(params.at("sigma")), context, keep_blurred);
}

Result<Image> box_blur(const Image& in, const ParamValues& params, const KernelContext& context) {
    return convolve(in, box_taps(static_cast<int>(params.at("radius"))), context, keep_blurred);
}

Result<Image> sharpen(const Image& in, const ParamValues& params, const KernelContext& context) {
    const auto amount = static_cast<float>(params.at("amount"));
    return convolve(in, gaussian_taps(params.at("sigma")), context,
                    [amount](std::uint8_t original, float blurred) noexcept {
                        return clamp_byte(original + amount * (original - blurred));
                    });
}

}  // namespace

Operation make_gaussian_blur() {
    return {"gaussian_blur",
            "Gaussian blur, separable, radius ceil(3 sigma), edges extended; keeps alpha",
            {{"sigma", "standard deviation in pixels", ParamSpec::Type::number, 2, 0.1, 50}},
            gaussian_blur};
}

Operation make_box_blur() {
    return {
        "box_blur",
        "Mean of the (2 radius + 1) x (2 radius + 1) square around each pixel, edges "
        "extended; keeps alpha",
        {{"radius", "half the side of the square, in pixels", ParamSpec::Type::integer, 2, 1, 50}},
        box_blur};
}

Operation make_sharpen() {
    return {
        "sharpen",
        "Unsharp mask: original + amount x (original - Gaussian blur); keeps alpha",
        {{"sigma", "standard deviation of the blur, in pixels", ParamSpec::Type::number, 1, 0.1,
          10},
         {"amount", "strength; 0 leaves the image unchanged", ParamSpec::Type::number, 1, 0, 10}},
        sharpen};
}

}  // namespace imgbus::imaging::detail
