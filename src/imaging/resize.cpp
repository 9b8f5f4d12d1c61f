// SPDX-License-Identifier: MIT
// Resampling with a separable filter: bilinear (triangle) or Lanczos-3.
#include <cmath>
#include <numbers>
#include <vector>

#include "kernel_support.hpp"
#include "operations.hpp"

namespace imgbus::imaging::detail {
namespace {

enum class Filter { bilinear, lanczos3 };

double filter_support(Filter filter) { return filter == Filter::bilinear ? 1.0 : 3.0; }

double filter_weight(Filter filter, double t) {
    t = std::abs(t);
    if (filter == Filter::bilinear) {
        return t < 1 ? 1 - t : 0;
    }
    if (t < 1e-9) {
        return 1;
    }
    if (t >= 3) {
        return 0;
    }
    const double pt = std::numbers::pi * t;
    return 3 * std::sin(pt) * std::sin(pt / 3) / (pt * pt);
}

// For each output coordinate: the input indices it reads (clamped to the edge) and their
// normalised weights.
struct Contributions {
    int taps = 0;
    std::vector<int> index;     // out_size * taps
    std::vector<float> weight;  // out_size * taps
};

// Output pixel o covers input centre (o + 0.5) * scale - 0.5. When shrinking, the filter is
// stretched by the scale, so that every input pixel contributes (no aliasing).
Contributions contributions(int in_size, int out_size, Filter filter) {
    const double scale = static_cast<double>(in_size) / out_size;
    const double stretch = std::max(scale, 1.0);
    const double support = filter_support(filter) * stretch;
    Contributions result;
    result.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
    result.index.resize(static_cast<std::size_t>(out_size) * result.taps);
    result.weight.resize(result.index.size());
    for (int o = 0; o < out_size; ++o) {
        const double centre = (o + 0.5) * scale - 0.5;
        const int first = static_cast<int>(std::floor(centre)) - result.taps / 2;
        double sum = 0;
        std::vector<double> weights(result.taps);
        for (int k = 0; k < result.taps; ++k) {
            weights[k] = filter_weight(filter, (first + k - centre) / stretch);
            sum += weights[k];
        }
        for (int k = 0; k < result.taps; ++k) {
            const std::size_t at = static_cast<std::size_t>(o) * result.taps + k;
            result.index[at] = std::clamp(first + k, 0, in_size - 1);
            result.weight[at] = static_cast<float>(weights[k] / sum);
        }
    }
    return result;
}

struct Size {
    int width;
    int height;
};

// Width and height from the parameters; a side given as 0 follows the other's scale.
Result<Size> output_size(const Image& in, const ParamValues& params, std::uint64_t max_pixels) {
    int width = static_cast<int>(params.at("width"));
    int height = static_cast<int>(params.at("height"));
    if (width == 0 && height == 0) {
        return invalid("resize needs width, height or both; give width=N or height=N");
    }
    if (width == 0) {
        width = std::max(1, static_cast<int>(std::lround(double(in.width) * height / in.height)));
    } else if (height == 0) {
        height = std::max(1, static_cast<int>(std::lround(double(in.height) * width / in.width)));
    }
    const auto pixels = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height);
    if (width > 65535 || height > 65535 || pixels > max_pixels) {
        return invalid("resize to " + std::to_string(width) + "x" + std::to_string(height) +
                       " exceeds the limit of " + std::to_string(max_pixels) +
                       " pixels and 65535 per side; ask for a smaller size");
    }
    return Size{width, height};
}

// Vertical pass for output row y into `sums` (one float per input sample), then horizontal pass.
void resample_row(const Image& in, Image& out, const Contributions& rows,
                  const Contributions& columns, int y, float* sums) noexcept {
    const std::size_t stride = in.stride();
    std::fill(sums, sums + stride, 0.0f);
    for (int k = 0; k < rows.taps; ++k) {
        const std::size_t at = static_cast<std::size_t>(y) * rows.taps + k;
        const std::uint8_t* source = in.row(rows.index[at]);
        const float weight = rows.weight[at];
        for (std::size_t i = 0; i < stride; ++i) {
            sums[i] += weight * source[i];
        }
    }
    const int channels = in.channels;
    std::uint8_t* target = out.row(y);
    for (int x = 0; x < out.width; ++x) {
        const std::size_t first = static_cast<std::size_t>(x) * columns.taps;
        for (int c = 0; c < channels; ++c) {
            float value = 0;
            for (int k = 0; k < columns.taps; ++k) {
                value += columns.weight[first + k] *
                         sums[static_cast<std::size_t>(columns.index[first + k]) * channels + c];
            }
            target[static_cast<std::size_t>(x) * channels + c] = clamp_byte(value);
        }
    }
}

Result<Image> resize(const Image& in, const ParamValues& params, const KernelContext& context) {
    auto size = output_size(in, params, context.max_output_pixels);
    if (!size) {
        return size.error();
    }
    const auto filter = params.at("filter") == 0 ? Filter::lanczos3 : Filter::bilinear;
    const auto rows = contributions(in.height, size->height, filter);
    const auto columns = contributions(in.width, size->width, filter);
    Image out = make_image(size->width, size->height, in.channels);
    std::vector<std::vector<float>> scratch(scratch_slots(context.threads),
                                            std::vector<float>(in.stride()));
    parallel_rows(out.height, context.threads, context.passes, [&](int y, int thread) noexcept {
        resample_row(in, out, rows, columns, y, scratch[thread].data());
    });
    return out;
}

}  // namespace

Operation make_resize() {
    return {"resize",
            "Resamples to width x height; with one side 0 the other follows the aspect ratio. "
            "All channels, alpha included, are resampled",
            {{"width", "output width in pixels, 0 to follow the height", ParamSpec::Type::integer,
              0, 0, 65535},
             {"height", "output height in pixels, 0 to follow the width", ParamSpec::Type::integer,
              0, 0, 65535},
             {"filter",
              "lanczos3 (sharper) or bilinear (faster)",
              ParamSpec::Type::choice,
              0,
              0,
              0,
              {"lanczos3", "bilinear"}}},
            resize};
}

}  // namespace imgbus::imaging::detail
