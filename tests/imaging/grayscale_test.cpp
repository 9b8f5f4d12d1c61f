// SPDX-License-Identifier: MIT
#include "imgbus/imaging/grayscale.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/codec.hpp"

namespace imaging = imgbus::imaging;
using imaging::testing::make_pattern;

TEST_CASE("grayscale reference matches the BT.601 formula", "[imaging]") {
    imaging::Image white = imaging::make_image(1, 1, 3);
    white.pixels = {255, 255, 255};
    CHECK(imaging::grayscale_reference(white).pixels == std::vector<std::uint8_t>{255});

    imaging::Image colours = imaging::make_image(3, 1, 3);
    colours.pixels = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    const auto gray = imaging::grayscale_reference(colours);
    REQUIRE(gray.channels == 1);
    CHECK(gray.pixels[0] == (77 * 255 + 128) >> 8);
    CHECK(gray.pixels[1] == (150 * 255 + 128) >> 8);
    CHECK(gray.pixels[2] == (29 * 255 + 128) >> 8);
}

TEST_CASE("grayscale kernel matches reference on odd sizes", "[imaging]") {
    const int sizes[][2] = {{1, 1}, {3, 4097}, {17, 17}, {1023, 7}, {4097, 3}, {33, 1}};
    for (const auto& size : sizes) {
        for (int channels = 1; channels <= 4; ++channels) {
            const auto input = make_pattern(size[0], size[1], channels, channels);
            const auto expected = imaging::grayscale_reference(input);
            INFO(size[0] << "x" << size[1] << " with " << channels << " channels");
            const auto output = imaging::grayscale(input, 1);
            CHECK(output.width == input.width);
            CHECK(output.height == input.height);
            CHECK(output.channels == (input.has_alpha() ? 2 : 1));
            CHECK(output.pixels == expected.pixels);
        }
    }
}

TEST_CASE("grayscale row matches reference at every width", "[imaging]") {
    // Widths around the AVX2 row's 32-pixel blocks, where the tail loop takes over.
    for (int width = 1; width <= 100; ++width) {
        const auto input = make_pattern(width, 1, 3, static_cast<unsigned>(width));
        const auto expected = imaging::grayscale_reference(input);
        std::vector<std::uint8_t> row(static_cast<std::size_t>(width) + 1, 0xAB);
        imaging::grayscale_rgb_row(input.pixels.data(), row.data(), width);
        INFO("width " << width);
        CHECK(std::equal(expected.pixels.begin(), expected.pixels.end(), row.begin()));
        CHECK(row.back() == 0xAB);  // nothing written past the row
    }
}

TEST_CASE("grayscale output is identical for every thread count", "[imaging]") {
    for (int channels = 3; channels <= 4; ++channels) {
        const auto input = make_pattern(1023, 257, channels, 7);
        const auto expected = imaging::grayscale_reference(input);
        for (int threads = 1; threads <= 4; ++threads) {
            for (int passes : {1, 3}) {
                INFO(channels << " channels, " << threads << " threads, " << passes << " passes");
                CHECK(imaging::grayscale(input, threads, passes).pixels == expected.pixels);
            }
        }
    }
}

TEST_CASE("grayscale with more threads than rows", "[imaging]") {
    const auto input = make_pattern(50, 2, 3);
    CHECK(imaging::grayscale(input, 8).pixels == imaging::grayscale_reference(input).pixels);
}

TEST_CASE("grayscale copies alpha unchanged", "[imaging]") {
    const auto input = make_pattern(31, 5, 4, 3);
    const auto output = imaging::grayscale(input, 2);
    REQUIRE(output.channels == 2);
    for (std::size_t i = 0; i < output.pixels.size() / 2; ++i) {
        REQUIRE(output.pixels[2 * i + 1] == input.pixels[4 * i + 3]);
    }
}

TEST_CASE("grayscale of gray input is unchanged", "[imaging]") {
    for (int channels = 1; channels <= 2; ++channels) {
        const auto input = make_pattern(19, 11, channels);
        const auto output = imaging::grayscale(input, 2, 2);
        CHECK(output.channels == channels);
        CHECK(output.pixels == input.pixels);
    }
}

TEST_CASE("grayscale of equal channels keeps the level", "[imaging]") {
    imaging::Image input = imaging::make_image(256, 1, 3);
    for (int v = 0; v < 256; ++v) {
        input.pixels[3 * v] = input.pixels[3 * v + 1] = input.pixels[3 * v + 2] =
            static_cast<std::uint8_t>(v);
    }
    const auto output = imaging::grayscale(input, 1);
    for (int v = 0; v < 256; ++v) {
        REQUIRE(output.pixels[v] == v);
    }
}

TEST_CASE("grayscale of test.jpg matches test_gray.png", "[imaging]") {
    auto photo = imaging::decode(imaging::testing::read_data("test.jpg"));
    REQUIRE(photo.ok());
    auto reference = imaging::decode(imaging::testing::read_data("test_gray.png"));
    REQUIRE(reference.ok());
    REQUIRE(reference->channels == 3);

    const auto gray = imaging::grayscale(*photo, 2);
    REQUIRE(gray.width == reference->width);
    REQUIRE(gray.height == reference->height);
    // test_gray.png was made with a slightly different decode or formula: 5 of its 2 million
    // pixels are 3 levels away from libjpeg-turbo's decode (djpeg agrees) run through 8.8 BT.601.
    int worst = 0;
    std::size_t over_two = 0;
    for (std::size_t i = 0; i < gray.pixels.size(); ++i) {
        const int difference = std::abs(gray.pixels[i] - reference->pixels[3 * i]);
        worst = std::max(worst, difference);
        over_two += difference > 2 ? 1 : 0;
    }
    CHECK(worst <= 3);
    CHECK(over_two <= 10);
}
