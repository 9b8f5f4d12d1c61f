// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/grayscale.hpp"

namespace imaging = imgbus::imaging;
using imaging::Errc;
using imaging::testing::read_bytes;
using imaging::testing::read_data;

namespace {

imaging::Image decode_ok(const std::string& name) {
    auto decoded = imaging::decode(read_data(name));
    INFO(name << ": " << (decoded.ok() ? "" : decoded.error().message));
    REQUIRE(decoded.ok());
    return std::move(decoded).value();
}

imgbus::Error decode_fails(const std::string& name) {
    auto decoded = imaging::decode(read_data(name));
    INFO(name);
    REQUIRE_FALSE(decoded.ok());
    return decoded.error();
}

imgbus::Error probe_fails(const std::string& name) {
    auto info = imaging::probe(read_data(name));
    INFO(name);
    REQUIRE_FALSE(info.ok());
    return info.error();
}

// ImageMagick's own CMYK to sRGB conversion of the file, read back as RGB.
imaging::Image convert_with_imagemagick(const std::string& name) {
    imaging::testing::TempDir dir;
    const auto out = dir / "reference.png";
    imaging::testing::run_convert(imaging::testing::data_path(name).string() +
                                  " -colorspace sRGB -depth 8 PNG24:" + out.string());
    auto decoded = imaging::decode(read_bytes(out));
    REQUIRE(decoded.ok());
    return std::move(decoded).value();
}

}  // namespace

TEST_CASE("every hostile file has an expectation", "[imaging]") {
    const std::set<std::string> covered = {"17x17-420.jpg",
                                           "1x1-420.jpg",
                                           "3x4097-420.jpg",
                                           "adobe-cmyk-transform0.jpg",
                                           "adobe-ycck-transform2.jpg",
                                           "arithmetic.jpg",
                                           "bad-crc.png",
                                           "cmyk-imagemagick.jpg",
                                           "empty.jpg",
                                           "gray-alpha.png",
                                           "grayscale.jpg",
                                           "headers-only.jpg",
                                           "jpeg-height0.jpg",
                                           "jpeg-sof-65500x65500.jpg",
                                           "not-an-image.jpg",
                                           "palette-trns.png",
                                           "png-declared-30000x30000-rgb.png",
                                           "png-width-2000000.png",
                                           "progressive.jpg",
                                           "trailing-garbage-ok.jpg",
                                           "truncated-55pct.jpg",
                                           "truncated-60pct.png",
                                           "width0.png"};
    for (const auto& entry :
         std::filesystem::directory_iterator(imaging::testing::data_path("hostile"))) {
        INFO(entry.path().filename().string() << " needs a test in hostile_test.cpp");
        CHECK(covered.count(entry.path().filename().string()) == 1);
    }
}

TEST_CASE("cmyk and ycck jpegs match ImageMagick", "[imaging]") {
    for (const char* name : {"hostile/adobe-cmyk-transform0.jpg",
                             "hostile/adobe-ycck-transform2.jpg", "hostile/cmyk-imagemagick.jpg"}) {
        INFO(name);
        const auto decoded = decode_ok(name);
        CHECK(decoded.channels == 3);
        const auto reference = convert_with_imagemagick(name);
        REQUIRE(reference.width == decoded.width);
        REQUIRE(reference.height == decoded.height);
        REQUIRE(reference.channels == 3);
        CHECK(imaging::testing::max_abs_difference(decoded, reference) <= 2);
    }
}

TEST_CASE("arithmetic coded jpeg decodes", "[imaging]") {
    const auto image = decode_ok("hostile/arithmetic.jpg");
    CHECK(image.width == 257);
    CHECK(image.height == 131);
    CHECK(image.channels == 3);
}

TEST_CASE("gray jpeg stays unchanged by grayscale", "[imaging]") {
    const auto image = decode_ok("hostile/grayscale.jpg");
    REQUIRE(image.channels == 1);
    CHECK(imaging::grayscale(image, 2).pixels == image.pixels);
}

TEST_CASE("progressive jpegs decode", "[imaging]") {
    auto info = imaging::probe(read_data("hostile/progressive.jpg"));
    REQUIRE(info.ok());
    CHECK(info->progressive);
    CHECK(decode_ok("hostile/progressive.jpg").width == 257);
    CHECK(decode_ok("half_of_a_mega_photo.jpg").width == 2037);
    CHECK(decode_ok("more_than_one_mega_photo.jpg").height == 3000);
}

TEST_CASE("trailing garbage after EOI is ignored", "[imaging]") {
    const auto image = decode_ok("hostile/trailing-garbage-ok.jpg");
    CHECK(image.width == 400);
    CHECK(image.height == 300);
}

TEST_CASE("truncated files fail as truncated", "[imaging]") {
    for (const char* name : {"hostile/truncated-55pct.jpg", "hostile/truncated-60pct.png"}) {
        INFO(name);
        const auto error = decode_fails(name);
        CHECK(error.code == Errc::truncated);
        CHECK_THAT(error.message, Catch::Contains("truncated"));
    }
}

TEST_CASE("bad png crc names the chunk", "[imaging]") {
    const auto error = decode_fails("hostile/bad-crc.png");
    CHECK(error.code == Errc::corrupt);
    CHECK_THAT(error.message, Catch::Contains("CRC"));
    CHECK_THAT(error.message, Catch::Contains("IDAT"));
}

TEST_CASE("empty and non-image input is rejected", "[imaging]") {
    const auto empty = probe_fails("hostile/empty.jpg");
    CHECK(empty.code == Errc::empty_input);
    CHECK(decode_fails("hostile/empty.jpg").code == Errc::empty_input);

    const auto text = probe_fails("hostile/not-an-image.jpg");
    CHECK(text.code == Errc::unknown_format);
    CHECK_THAT(text.message, Catch::Contains("JPEG or PNG"));
    CHECK(decode_fails("hostile/not-an-image.jpg").code == Errc::unknown_format);
}

TEST_CASE("jpeg with headers only fails at probe", "[imaging]") {
    const auto error = probe_fails("hostile/headers-only.jpg");
    CHECK(error.code == Errc::truncated);
    CHECK_THAT(error.message, Catch::Contains("no scan data"));
    CHECK(decode_fails("hostile/headers-only.jpg").code == Errc::truncated);
}

TEST_CASE("huge declared dimensions fail at probe", "[imaging]") {
    const auto jpeg = probe_fails("hostile/jpeg-sof-65500x65500.jpg");
    CHECK(jpeg.code == Errc::too_large);
    CHECK(jpeg.message ==
          "image is 65500x65500 (4290 megapixels), over the limit of 100 megapixels; send a "
          "smaller image or raise --max-pixels");

    const auto png = probe_fails("hostile/png-declared-30000x30000-rgb.png");
    CHECK(png.code == Errc::too_large);
    CHECK_THAT(png.message, Catch::Contains("30000x30000 (900 megapixels)"));

    const auto wide = probe_fails("hostile/png-width-2000000.png");
    CHECK(wide.code == Errc::too_large);
    CHECK_THAT(wide.message, Catch::Contains("2000000x"));

    for (const char* name :
         {"hostile/jpeg-sof-65500x65500.jpg", "hostile/png-declared-30000x30000-rgb.png",
          "hostile/png-width-2000000.png"}) {
        INFO(name);
        CHECK(decode_fails(name).code == Errc::too_large);
    }
}

TEST_CASE("zero dimensions are rejected", "[imaging]") {
    for (const char* name : {"hostile/jpeg-height0.jpg", "hostile/width0.png"}) {
        INFO(name);
        const auto error = probe_fails(name);
        CHECK(error.code == Errc::zero_dimension);
        CHECK_THAT(error.message, Catch::Contains("0"));
        CHECK(decode_fails(name).code == Errc::zero_dimension);
    }
}

TEST_CASE("alpha survives gray-alpha and palette-trns", "[imaging]") {
    const auto gray_alpha = decode_ok("hostile/gray-alpha.png");
    REQUIRE(gray_alpha.channels == 2);
    const auto gray = imaging::grayscale(gray_alpha, 2);
    CHECK(gray.pixels == gray_alpha.pixels);

    const auto palette = decode_ok("hostile/palette-trns.png");
    REQUIRE(palette.channels == 4);
    bool has_transparency = false;
    for (std::size_t i = 3; i < palette.pixels.size(); i += 4) {
        has_transparency = has_transparency || palette.pixels[i] < 255;
    }
    CHECK(has_transparency);
    const auto converted = imaging::grayscale(palette, 2);
    REQUIRE(converted.channels == 2);
    for (std::size_t i = 0; i < converted.pixels.size() / 2; ++i) {
        REQUIRE(converted.pixels[2 * i + 1] == palette.pixels[4 * i + 3]);
    }
}

TEST_CASE("odd sized 4:2:0 jpegs keep their size", "[imaging]") {
    const struct {
        const char* name;
        int width;
        int height;
    } cases[] = {{"hostile/1x1-420.jpg", 1, 1},
                 {"hostile/17x17-420.jpg", 17, 17},
                 {"hostile/3x4097-420.jpg", 3, 4097}};
    for (const auto& c : cases) {
        INFO(c.name);
        const auto image = decode_ok(c.name);
        const auto gray = imaging::grayscale(image, 2);
        CHECK(gray.width == c.width);
        CHECK(gray.height == c.height);
        auto encoded = imaging::encode(gray, imaging::Format::jpeg);
        REQUIRE(encoded.ok());
        auto again = imaging::decode(*encoded);
        REQUIRE(again.ok());
        CHECK(again->width == c.width);
        CHECK(again->height == c.height);
    }
}

TEST_CASE("truncated photos never decode", "[imaging]") {
    const auto jpeg = read_data("test.jpg");
    auto png_image = imaging::decode(read_data("hostile/gray-alpha.png"));
    REQUIRE(png_image.ok());
    const auto png = imaging::encode(*png_image, imaging::Format::png);
    REQUIRE(png.ok());

    for (const auto* file : {&jpeg, &png.value()}) {
        const std::size_t size = file->size();
        for (std::size_t cut : {std::size_t{1}, std::size_t{20}, size / 10, size / 3, size / 2,
                                size * 9 / 10, size - 3, size - 1}) {
            INFO("cut at " << cut << " of " << size);
            auto decoded = imaging::decode(std::span<const std::uint8_t>(file->data(), cut));
            REQUIRE_FALSE(decoded.ok());
            CHECK((decoded.error().code == Errc::truncated ||
                   decoded.error().code == Errc::corrupt ||
                   decoded.error().code == Errc::unknown_format));
        }
    }
}
