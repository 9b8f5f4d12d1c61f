// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/error.hpp"
#include "imgbus/imaging/operation.hpp"

namespace imaging = imgbus::imaging;
using imaging::Image;
using imaging::testing::make_pattern;
using imaging::testing::max_abs_difference;

namespace {

const int kSizes[][2] = {{1, 1}, {2, 3}, {17, 9}, {33, 1}, {1, 21}, {61, 47}};

Image run(const std::string& op, const Image& input, std::map<std::string, std::string> raw = {},
          int threads = 1) {
    const auto& registry = imaging::OperationRegistry::global();
    auto params = registry.validate(op, raw);
    REQUIRE(params.ok());
    auto output = registry.find(op)->kernel(input, *params, {threads, 1});
    if (!output) {
        FAIL(op << ": " << output.error().message);
    }
    return std::move(*output);
}

int colors(const Image& image) { return image.has_alpha() ? image.channels - 1 : image.channels; }

std::uint8_t at(const Image& image, int x, int y, int c) {
    x = std::clamp(x, 0, image.width - 1);
    y = std::clamp(y, 0, image.height - 1);
    return image.row(y)[static_cast<std::size_t>(x) * image.channels + c];
}

std::uint8_t to_byte(double value) {
    return static_cast<std::uint8_t>(std::clamp(std::round(value), 0.0, 255.0));
}

std::vector<double> gaussian_weights(double sigma) {
    const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
    std::vector<double> weights;
    double sum = 0;
    for (int i = -radius; i <= radius; ++i) {
        weights.push_back(std::exp(-i * i / (2 * sigma * sigma)));
        sum += weights.back();
    }
    for (auto& weight : weights) weight /= sum;
    return weights;
}

// The 2-D sum of the outer product of `weights` with itself, edges clamped, without rounding.
double convolved(const Image& in, const std::vector<double>& weights, int x, int y, int c) {
    const int radius = static_cast<int>(weights.size() / 2);
    double sum = 0;
    for (int j = -radius; j <= radius; ++j) {
        for (int i = -radius; i <= radius; ++i) {
            sum += weights[i + radius] * weights[j + radius] * at(in, x + i, y + j, c);
        }
    }
    return sum;
}

// Applies `pixel(x, y, c)` to each colour channel and copies alpha.
template <class Pixel>
Image per_channel_reference(const Image& in, const Pixel& pixel) {
    Image out = imaging::make_image(in.width, in.height, in.channels);
    for (int y = 0; y < in.height; ++y) {
        for (int x = 0; x < in.width; ++x) {
            for (int c = 0; c < in.channels; ++c) {
                out.row(y)[x * in.channels + c] = c < colors(in) ? pixel(x, y, c) : at(in, x, y, c);
            }
        }
    }
    return out;
}

unsigned luma(const Image& in, int x, int y) {
    if (colors(in) == 1) return at(in, x, y, 0);
    return (77u * at(in, x, y, 0) + 150u * at(in, x, y, 1) + 29u * at(in, x, y, 2) + 128u) >> 8;
}

// Compares kernel and reference on every size and channel count, within `tolerance` levels.
template <class Reference>
void check_against(const std::string& op, const std::map<std::string, std::string>& raw,
                   const Reference& reference, int tolerance = 0) {
    for (const auto& size : kSizes) {
        for (int channels = 1; channels <= 4; ++channels) {
            INFO(op << " on " << size[0] << "x" << size[1] << " with " << channels << " channels");
            const auto input = make_pattern(size[0], size[1], channels, channels + 7);
            const auto expected = reference(input);
            const auto output = run(op, input, raw, 3);
            REQUIRE(output.width == expected.width);
            REQUIRE(output.height == expected.height);
            REQUIRE(output.channels == expected.channels);
            CHECK(max_abs_difference(output, expected) <= tolerance);
        }
    }
}

}  // namespace

TEST_CASE("every operation gives the same bytes for every thread count", "[imaging]") {
    const auto& registry = imaging::OperationRegistry::global();
    for (const auto* operation : registry.list()) {
        std::map<std::string, std::string> raw;
        if (operation->name == "resize") raw = {{"width", "45"}};
        for (int channels = 1; channels <= 4; ++channels) {
            INFO(operation->name << " with " << channels << " channels");
            const auto input = make_pattern(67, 41, channels, 3);
            const auto single = run(operation->name, input, raw, 1);
            for (int threads : {2, 3, 4, 7}) {
                CHECK(run(operation->name, input, raw, threads).pixels == single.pixels);
            }
        }
    }
}

TEST_CASE("colour operations keep alpha unchanged", "[imaging]") {
    for (const char* op : {"gaussian_blur", "box_blur", "sharpen", "sobel", "sepia", "invert",
                           "brightness_contrast", "threshold", "grayscale"}) {
        for (int channels : {2, 4}) {
            INFO(op << " with " << channels << " channels");
            const auto input = make_pattern(23, 19, channels, 5);
            const auto output = run(op, input);
            REQUIRE(output.has_alpha());
            REQUIRE(output.width == input.width);
            for (int y = 0; y < input.height; ++y) {
                for (int x = 0; x < input.width; ++x) {
                    REQUIRE(at(output, x, y, output.channels - 1) ==
                            at(input, x, y, input.channels - 1));
                }
            }
        }
    }
}

TEST_CASE("gaussian_blur matches a direct 2-D convolution", "[imaging]") {
    for (double sigma : {0.5, 1.3, 4.0}) {
        const auto weights = gaussian_weights(sigma);
        check_against(
            "gaussian_blur", {{"sigma", std::to_string(sigma)}},
            [&](const Image& in) {
                return per_channel_reference(in, [&](int x, int y, int c) {
                    return to_byte(convolved(in, weights, x, y, c));
                });
            },
            1);
    }
}

TEST_CASE("box_blur matches the mean of the square", "[imaging]") {
    const std::vector<double> weights(5, 1.0 / 5);
    check_against(
        "box_blur", {{"radius", "2"}},
        [&](const Image& in) {
            return per_channel_reference(
                in, [&](int x, int y, int c) { return to_byte(convolved(in, weights, x, y, c)); });
        },
        1);
}

TEST_CASE("sharpen adds the difference from the blur", "[imaging]") {
    const auto weights = gaussian_weights(1.0);
    check_against(
        "sharpen", {{"sigma", "1"}, {"amount", "1.5"}},
        [&](const Image& in) {
            return per_channel_reference(in, [&](int x, int y, int c) {
                const double original = at(in, x, y, c);
                return to_byte(original + 1.5 * (original - convolved(in, weights, x, y, c)));
            });
        },
        1);
    const auto input = make_pattern(31, 17, 3);
    CHECK(run("sharpen", input, {{"amount", "0"}}).pixels == input.pixels);
}

TEST_CASE("point operations match their formulas", "[imaging]") {
    check_against("invert", {}, [](const Image& in) {
        return per_channel_reference(in, [&](int x, int y, int c) {
            return static_cast<std::uint8_t>(255 - at(in, x, y, c));
        });
    });
    check_against("brightness_contrast", {{"brightness", "10"}, {"contrast", "50"}},
                  [](const Image& in) {
                      return per_channel_reference(in, [&](int x, int y, int c) {
                          return to_byte((at(in, x, y, c) - 128) * 1.5 + 128 + 25.5);
                      });
                  });
    check_against("threshold", {{"level", "100"}}, [](const Image& in) {
        return per_channel_reference(in, [&](int x, int y, int) {
            return static_cast<std::uint8_t>(luma(in, x, y) >= 100 ? 255 : 0);
        });
    });
}

TEST_CASE("sepia applies the matrix and turns gray into RGB", "[imaging]") {
    check_against("sepia", {}, [](const Image& in) {
        Image out = imaging::make_image(in.width, in.height, in.has_alpha() ? 4 : 3);
        // The matrix in thousandths, rounded to the nearest integer level.
        const int matrix[3][3] = {{393, 769, 189}, {349, 686, 168}, {272, 534, 131}};
        for (int y = 0; y < in.height; ++y) {
            for (int x = 0; x < in.width; ++x) {
                const int g = colors(in) == 1 ? 0 : 1, b = colors(in) == 1 ? 0 : 2;
                const int rgb[3] = {at(in, x, y, 0), at(in, x, y, g), at(in, x, y, b)};
                for (int c = 0; c < 3; ++c) {
                    const int sum =
                        matrix[c][0] * rgb[0] + matrix[c][1] * rgb[1] + matrix[c][2] * rgb[2];
                    out.row(y)[x * out.channels + c] =
                        static_cast<std::uint8_t>(std::min((sum + 500) / 1000, 255));
                }
                if (in.has_alpha()) out.row(y)[x * 4 + 3] = at(in, x, y, in.channels - 1);
            }
        }
        return out;
    });
}

TEST_CASE("sobel gives the gradient magnitude of the luma", "[imaging]") {
    check_against("sobel", {}, [](const Image& in) {
        Image out = imaging::make_image(in.width, in.height, in.has_alpha() ? 2 : 1);
        for (int y = 0; y < in.height; ++y) {
            for (int x = 0; x < in.width; ++x) {
                auto l = [&](int dx, int dy) { return static_cast<int>(luma(in, x + dx, y + dy)); };
                const int gx =
                    l(1, -1) + 2 * l(1, 0) + l(1, 1) - l(-1, -1) - 2 * l(-1, 0) - l(-1, 1);
                const int gy =
                    l(-1, 1) + 2 * l(0, 1) + l(1, 1) - l(-1, -1) - 2 * l(0, -1) - l(1, -1);
                out.row(y)[x * out.channels] = to_byte(std::sqrt(double(gx * gx + gy * gy)));
                if (in.has_alpha()) out.row(y)[x * 2 + 1] = at(in, x, y, in.channels - 1);
            }
        }
        return out;
    });
    const Image flat = imaging::make_image(9, 9, 3);
    for (auto value : run("sobel", flat).pixels) REQUIRE(value == 0);
}

namespace {

double lanczos3(double t) {
    t = std::abs(t);
    if (t < 1e-9) return 1;
    if (t >= 3) return 0;
    const double pt = std::numbers::pi * t;
    return 3 * std::sin(pt) * std::sin(pt / 3) / (pt * pt);
}

double triangle(double t) { return std::max(0.0, 1 - std::abs(t)); }

// Normalised weights of every input index for output coordinate o, edges clamped.
std::vector<double> resample_weights(int in_size, int out_size, int o, double (*filter)(double),
                                     double support) {
    const double scale = double(in_size) / out_size, stretch = std::max(scale, 1.0);
    const double centre = (o + 0.5) * scale - 0.5;
    std::vector<double> weights(in_size, 0.0);
    double sum = 0;
    const int reach = static_cast<int>(std::ceil(support * stretch)) + 1;
    for (int i = static_cast<int>(std::floor(centre)) - reach;
         i <= static_cast<int>(std::floor(centre)) + reach; ++i) {
        const double weight = filter((i - centre) / stretch);
        weights[std::clamp(i, 0, in_size - 1)] += weight;
        sum += weight;
    }
    for (auto& weight : weights) weight /= sum;
    return weights;
}

Image resize_reference(const Image& in, int width, int height, double (*filter)(double),
                       double support) {
    Image out = imaging::make_image(width, height, in.channels);
    for (int y = 0; y < height; ++y) {
        const auto wy = resample_weights(in.height, height, y, filter, support);
        for (int x = 0; x < width; ++x) {
            const auto wx = resample_weights(in.width, width, x, filter, support);
            for (int c = 0; c < in.channels; ++c) {
                double sum = 0;
                for (int j = 0; j < in.height; ++j) {
                    for (int i = 0; i < in.width; ++i) sum += wy[j] * wx[i] * at(in, i, j, c);
                }
                out.row(y)[x * in.channels + c] = to_byte(sum);
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE("resize matches a direct 2-D resampling", "[imaging]") {
    const int targets[][2] = {{7, 5}, {40, 3}, {2, 30}};
    for (const auto& target : targets) {
        const std::map<std::string, std::string> size = {{"width", std::to_string(target[0])},
                                                         {"height", std::to_string(target[1])}};
        auto lanczos = size, bilinear = size;
        bilinear["filter"] = "bilinear";
        check_against(
            "resize", lanczos,
            [&](const Image& in) {
                return resize_reference(in, target[0], target[1], lanczos3, 3);
            },
            1);
        check_against(
            "resize", bilinear,
            [&](const Image& in) {
                return resize_reference(in, target[0], target[1], triangle, 1);
            },
            1);
    }
}

TEST_CASE("resize keeps the aspect ratio when one side is given", "[imaging]") {
    const auto input = make_pattern(400, 300, 3);
    const auto half = run("resize", input, {{"width", "200"}});
    CHECK(half.width == 200);
    CHECK(half.height == 150);
    const auto tall = run("resize", input, {{"height", "90"}, {"filter", "bilinear"}});
    CHECK(tall.width == 120);
    CHECK(tall.height == 90);
    CHECK(run("resize", input, {{"width", "400"}}).pixels == input.pixels);

    const auto* resize = imaging::OperationRegistry::global().find("resize");
    auto none = resize->kernel(input, {{"width", 0}, {"height", 0}, {"filter", 0}}, {});
    REQUIRE_FALSE(none.ok());
    CHECK_THAT(none.error().message, Catch::Contains("width, height or both"));
    imaging::KernelContext small;
    small.max_output_pixels = 1000;
    auto huge = resize->kernel(input, {{"width", 4000}, {"height", 0}, {"filter", 0}}, small);
    REQUIRE_FALSE(huge.ok());
    CHECK_THAT(huge.error().message, Catch::Contains("4000x3000"));
}

TEST_CASE("rotate, flip and crop move pixels", "[imaging]") {
    for (int channels = 1; channels <= 4; ++channels) {
        const auto in = make_pattern(5, 3, channels, 9);
        const auto r90 = run("rotate", in, {{"angle", "90"}});
        const auto r180 = run("rotate", in, {{"angle", "180"}});
        const auto r270 = run("rotate", in, {{"angle", "270"}});
        const auto horizontal = run("flip", in, {{"direction", "horizontal"}});
        const auto vertical = run("flip", in, {{"direction", "vertical"}});
        const auto cropped = run("crop", in, {{"x", "1"}, {"y", "1"}, {"width", "3"}});
        REQUIRE(r90.width == 3);
        REQUIRE(r90.height == 5);
        REQUIRE(cropped.width == 3);
        REQUIRE(cropped.height == 2);
        for (int y = 0; y < 3; ++y) {
            for (int x = 0; x < 5; ++x) {
                for (int c = 0; c < channels; ++c) {
                    const auto value = at(in, x, y, c);
                    CHECK(at(r90, 2 - y, x, c) == value);
                    CHECK(at(r180, 4 - x, 2 - y, c) == value);
                    CHECK(at(r270, y, 4 - x, c) == value);
                    CHECK(at(horizontal, 4 - x, y, c) == value);
                    CHECK(at(vertical, x, 2 - y, c) == value);
                    if (x >= 1 && x <= 3 && y >= 1) CHECK(at(cropped, x - 1, y - 1, c) == value);
                }
            }
        }
    }
}

TEST_CASE("crop outside the image names the values", "[imaging]") {
    const auto input = make_pattern(10, 8, 3);
    const auto* crop = imaging::OperationRegistry::global().find("crop");
    auto outside = crop->kernel(input, {{"x", 10}, {"y", 0}, {"width", 0}, {"height", 0}}, {});
    REQUIRE_FALSE(outside.ok());
    CHECK_THAT(outside.error().message, Catch::Contains("x=10") && Catch::Contains("10x8"));
    auto wide = crop->kernel(input, {{"x", 4}, {"y", 0}, {"width", 7}, {"height", 0}}, {});
    REQUIRE_FALSE(wide.ok());
    CHECK_THAT(wide.error().message, Catch::Contains("x + width <= 10"));
}

TEST_CASE("pipelines parse, validate and run in order", "[imaging]") {
    auto steps =
        imaging::parse_pipeline("resize:width=20:filter=bilinear, sharpen:amount=1.5,grayscale");
    REQUIRE(steps.ok());
    REQUIRE(steps->size() == 3);
    CHECK((*steps)[0].op == "resize");
    CHECK((*steps)[0].params.at("filter") == "bilinear");
    CHECK((*steps)[1].params.at("amount") == "1.5");
    CHECK(imaging::format_pipeline(*steps) ==
          "resize:filter=bilinear:width=20,sharpen:amount=1.5,grayscale");

    const auto& registry = imaging::OperationRegistry::global();
    auto validated = registry.validate_pipeline(*steps);
    REQUIRE(validated.ok());
    std::vector<std::string> ran;
    auto output = imaging::run_pipeline(*validated, make_pattern(40, 30, 4), {2, 1},
                                        [&](const imaging::Operation& op, double seconds) {
                                            ran.push_back(op.name);
                                            CHECK(seconds >= 0);
                                        });
    REQUIRE(output.ok());
    CHECK(output->width == 20);
    CHECK(output->height == 15);
    CHECK(output->channels == 2);
    CHECK(ran == std::vector<std::string>{"resize", "sharpen", "grayscale"});

    auto bad = registry.validate_pipeline(*imaging::parse_pipeline("invert,sharpen:amount=20"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "step 2 (sharpen): parameter 'amount' = 20 is out of range 0..10");
    auto choice = registry.validate_pipeline(*imaging::parse_pipeline("rotate:angle=45"));
    REQUIRE_FALSE(choice.ok());
    CHECK(choice.error().message ==
          "step 1 (rotate): parameter 'angle' = '45' is not one of 90, 180, 270");

    for (const char* text :
         {"", "invert,,grayscale", "resize:width", "resize:=3", "resize:width=1:width=2"}) {
        INFO("pipeline '" << text << "'");
        auto parsed = imaging::parse_pipeline(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK_THAT(parsed.error().message, Catch::Contains("OP:NAME=VALUE"));
    }
    std::string long_pipeline = "invert";
    for (int i = 0; i < 16; ++i) long_pipeline += ",invert";
    auto too_long = imaging::parse_pipeline(long_pipeline);
    REQUIRE_FALSE(too_long.ok());
    CHECK_THAT(too_long.error().message, Catch::Contains("17 steps"));
}
