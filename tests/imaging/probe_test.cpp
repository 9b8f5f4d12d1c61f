// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/codec.hpp"

namespace imaging = imgbus::imaging;
using imaging::Errc;
using imaging::Format;

namespace {

// A minimal JPEG header: SOI, SOF0 with the given size and components, SOS, one data byte.
std::vector<std::uint8_t> jpeg_header(int width, int height, int components = 3) {
    std::vector<std::uint8_t> bytes = {0xFF, 0xD8, 0xFF, 0xC0};
    const int length = 8 + 3 * components;
    bytes.insert(bytes.end(),
                 {static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length), 8,
                  static_cast<std::uint8_t>(height >> 8), static_cast<std::uint8_t>(height),
                  static_cast<std::uint8_t>(width >> 8), static_cast<std::uint8_t>(width),
                  static_cast<std::uint8_t>(components)});
    for (int c = 0; c < components; ++c) {
        bytes.insert(bytes.end(), {static_cast<std::uint8_t>(c + 1), 0x11, 0});
    }
    bytes.insert(bytes.end(), {0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0x12});
    return bytes;
}

}  // namespace

TEST_CASE("probe reads jpeg and png headers", "[imaging]") {
    auto jpeg = imaging::probe(imaging::testing::read_data("test.jpg"));
    REQUIRE(jpeg.ok());
    CHECK(jpeg->format == Format::jpeg);
    CHECK(jpeg->width == 1920);
    CHECK(jpeg->height == 1080);
    CHECK(jpeg->channels == 3);
    CHECK_FALSE(jpeg->progressive);

    auto png = imaging::probe(imaging::testing::read_data("test_gray.png"));
    REQUIRE(png.ok());
    CHECK(png->format == Format::png);
    CHECK(png->width == 1920);
    CHECK(png->height == 1080);
}

TEST_CASE("probe applies max_pixels and max_dimension", "[imaging]") {
    const auto bytes = imaging::testing::read_data("test.jpg");
    imaging::DecodeLimits limits;
    limits.max_pixels = 1920 * 1080;
    CHECK(imaging::probe(bytes, limits).ok());

    limits.max_pixels = 1920 * 1080 - 1;
    auto over = imaging::probe(bytes, limits);
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().code == Errc::too_large);
    CHECK_THAT(over.error().message, Catch::Contains("1920x1080 (2 megapixels)"));
    CHECK(imaging::decode(bytes, limits).error().code == Errc::too_large);

    limits = {};
    limits.max_dimension = 1919;
    auto wide = imaging::probe(bytes, limits);
    REQUIRE_FALSE(wide.ok());
    CHECK(wide.error().code == Errc::too_large);
    CHECK_THAT(wide.error().message, Catch::Contains("1919 pixels per side"));
}

TEST_CASE("probe limits below a megapixel count pixels", "[imaging]") {
    imaging::DecodeLimits limits;
    limits.max_pixels = 1000;
    auto over = imaging::probe(jpeg_header(100, 20), limits);
    REQUIRE_FALSE(over.ok());
    CHECK_THAT(over.error().message,
               Catch::Contains("(2000 pixels), over the limit of 1000 pixels"));
}

TEST_CASE("probe of a synthetic jpeg header", "[imaging]") {
    auto info = imaging::probe(jpeg_header(640, 480, 1));
    REQUIRE(info.ok());
    CHECK(info->width == 640);
    CHECK(info->height == 480);
    CHECK(info->channels == 1);

    auto cmyk = imaging::probe(jpeg_header(64, 64, 4));
    REQUIRE(cmyk.ok());
    CHECK(cmyk->channels == 3);
}

TEST_CASE("probe rejects hostile jpeg headers", "[imaging]") {
    SECTION("two components") {
        auto result = imaging::probe(jpeg_header(8, 8, 2));
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::unsupported);
    }
    SECTION("segment length below 2") {
        std::vector<std::uint8_t> bytes = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01};
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::corrupt);
    }
    SECTION("segment longer than the file") {
        std::vector<std::uint8_t> bytes = {0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0x00};
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::truncated);
    }
    SECTION("only SOI") {
        auto result = imaging::probe(std::vector<std::uint8_t>{0xFF, 0xD8});
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::truncated);
    }
    SECTION("fill bytes to the end") {
        auto result = imaging::probe(std::vector<std::uint8_t>{0xFF, 0xD8, 0xFF, 0xFF, 0xFF});
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::truncated);
    }
    SECTION("junk where a marker belongs, to the end") {
        // Junk between segments is skipped, as libjpeg skips it; here no marker follows.
        auto result = imaging::probe(std::vector<std::uint8_t>{0xFF, 0xD8, 0x12, 0x34});
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::truncated);
    }
    SECTION("SOS before SOF") {
        std::vector<std::uint8_t> bytes = {0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0};
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::corrupt);
    }
    SECTION("EOI before any scan") {
        auto result = imaging::probe(std::vector<std::uint8_t>{0xFF, 0xD8, 0xFF, 0xD9});
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::corrupt);
    }
    SECTION("12-bit samples") {
        auto bytes = jpeg_header(8, 8);
        bytes[6] = 12;
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::unsupported);
    }
    SECTION("two frame headers") {
        auto bytes = jpeg_header(8, 8, 1);
        auto second = jpeg_header(8, 8, 1);
        bytes.insert(bytes.begin() + 15, second.begin() + 2, second.begin() + 15);
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::corrupt);
    }
}

TEST_CASE("probe rejects hostile png headers", "[imaging]") {
    auto png = imaging::encode(imaging::testing::make_pattern(4, 4, 3), Format::png);
    REQUIRE(png.ok());
    const std::vector<std::uint8_t> good = *png;

    SECTION("signature only") {
        auto result = imaging::probe(std::span(good.data(), 8));
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::truncated);
    }
    SECTION("first chunk not IHDR") {
        auto bytes = good;
        bytes[12] = 'X';
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::corrupt);
    }
    SECTION("invalid depth for the colour type") {
        auto bytes = good;
        bytes[24] = 4;  // 4-bit RGB does not exist
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::corrupt);
        CHECK_THAT(result.error().message, Catch::Contains("bit depth 4"));
    }
    SECTION("width with the top bit set") {
        auto bytes = good;
        bytes[16] = 0x80;
        auto result = imaging::probe(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::too_large);
    }
    SECTION("cut after IHDR") {
        auto result = imaging::probe(std::span(good.data(), 33));
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::truncated);
    }
}
