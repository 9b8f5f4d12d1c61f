// SPDX-License-Identifier: MIT
// The streaming JPEG to gray JPEG path against decode, grayscale and encode of the whole image.
#include "imgbus/imaging/stream.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/grayscale.hpp"

namespace imaging = imgbus::imaging;
using imaging::Errc;
using imaging::KernelPath;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr int kQuality = 90;

// The reference path: decode all, the OpenMP kernel on two threads, encode all.
Bytes whole_image(const Bytes& jpeg) {
    auto decoded = imaging::decode(jpeg);
    REQUIRE(decoded.ok());
    auto encoded = imaging::encode(imaging::grayscale(*decoded, 2), imaging::Format::jpeg,
                                   {.jpeg_quality = kQuality});
    REQUIRE(encoded.ok());
    return *encoded;
}

imaging::StreamResult streamed(const Bytes& jpeg, bool luma, int strip_rows = 32) {
    auto result = imaging::stream_grayscale_jpeg(
        jpeg, {}, {.jpeg_quality = kQuality, .luma = luma, .strip_rows = strip_rows});
    INFO((result.ok() ? "" : result.error().message));
    REQUIRE(result.ok());
    return std::move(result).value();
}

imaging::Image decoded(const Bytes& jpeg) {
    auto image = imaging::decode(jpeg);
    REQUIRE(image.ok());
    return std::move(image).value();
}

Bytes encoded_jpeg(const imaging::Image& image) {
    auto jpeg = imaging::encode(image, imaging::Format::jpeg, {.jpeg_quality = 95});
    REQUIRE(jpeg.ok());
    return *jpeg;
}

// ImageMagick's and cjpeg's variants of test.jpg: progressive, restart markers, odd sizes.
std::vector<std::pair<std::string, Bytes>> made_variants() {
    imaging::testing::TempDir dir;
    const auto source = imaging::testing::data_path("test.jpg").string();
    const auto ppm = (dir / "small.ppm").string();
    imaging::testing::run_convert(source + " -resize 333x257! " + ppm);
    imaging::testing::run_convert(ppm + " -interlace JPEG -quality 85 " +
                                  (dir / "progressive.jpg").string());
    imaging::testing::run_convert(ppm + " -sampling-factor 2x1 " + (dir / "422.jpg").string());
    imaging::testing::run_convert(ppm + " -sampling-factor 1x1 " + (dir / "444.jpg").string());
    const std::string cjpeg =
        "cjpeg -quality 80 -restart 1 " + ppm + " > " + (dir / "restart.jpg").string() + " 2>&1";
    if (std::system(cjpeg.c_str()) != 0) {
        FAIL("command failed (install libjpeg-turbo-progs): " + cjpeg);
    }
    std::vector<std::pair<std::string, Bytes>> variants;
    for (const char* name : {"progressive.jpg", "422.jpg", "444.jpg", "restart.jpg"}) {
        variants.emplace_back(name, imaging::testing::read_bytes(dir / name));
    }
    return variants;
}

// The test files and made variants that the streaming path must reproduce.
std::vector<std::pair<std::string, Bytes>> inputs() {
    auto all = made_variants();
    for (const char* name :
         {"test.jpg", "half_of_a_mega_photo.jpg", "hostile/17x17-420.jpg", "hostile/1x1-420.jpg",
          "hostile/3x4097-420.jpg", "hostile/progressive.jpg", "hostile/grayscale.jpg",
          "hostile/adobe-cmyk-transform0.jpg", "hostile/adobe-ycck-transform2.jpg",
          "hostile/cmyk-imagemagick.jpg", "hostile/trailing-garbage-ok.jpg"}) {
        all.emplace_back(name, imaging::testing::read_data(name));
    }
    all.emplace_back("1 row", encoded_jpeg(imaging::testing::make_pattern(301, 1, 3)));
    all.emplace_back("1 column", encoded_jpeg(imaging::testing::make_pattern(1, 203, 3)));
    all.emplace_back("gradient 99x33", encoded_jpeg(imaging::testing::make_gradient(99, 33, 3)));
    return all;
}

}  // namespace

TEST_CASE("RGB stream matches whole image", "[imaging][stream]") {
    for (const auto& [name, jpeg] : inputs()) {
        INFO(name);
        const auto reference = whole_image(jpeg);
        const auto result = streamed(jpeg, false);
        CHECK(result.path == KernelPath::stream);
        const auto expected = decoded(reference);
        const auto actual = decoded(result.bytes);
        REQUIRE(actual.width == expected.width);
        REQUIRE(actual.height == expected.height);
        CHECK(actual.channels == 1);
        CHECK(actual.pixels == expected.pixels);
        CHECK(result.bytes == reference);
    }
}

// Whether any channel of the RGB pixel sits at 0 or 255: there the decoder clipped R, G or B,
// and the luma of the clipped colour can be far from the JPEG's Y.
bool clipped(const imaging::Image& rgb, std::size_t pixel) {
    for (int c = 0; c < 3; ++c) {
        const auto value = rgb.pixels[pixel * 3 + static_cast<std::size_t>(c)];
        if (value == 0 || value == 255) {
            return true;
        }
    }
    return false;
}

TEST_CASE("luma stream within one level", "[imaging][stream]") {
    int luma_files = 0;
    for (const auto& [name, jpeg] : inputs()) {
        INFO(name);
        imaging::Image luma;
        auto result = imaging::stream_grayscale_jpeg(
            jpeg, {}, {.jpeg_quality = kQuality, .luma = true, .gray_rows = &luma});
        REQUIRE(result.ok());
        // Only YCbCr files decode straight to luma; gray, CMYK and YCCK take the RGB stream.
        const bool ycbcr = name.find("cmyk") == std::string::npos &&
                           name.find("ycck") == std::string::npos &&
                           name.find("grayscale") == std::string::npos &&
                           name.find("1x1") == std::string::npos;  // a gray file
        CHECK(result->path == (ycbcr ? KernelPath::luma_stream : KernelPath::stream));
        if (!ycbcr) {
            continue;
        }
        ++luma_files;
        CHECK(result->kernel_seconds == 0.0);
        const auto rgb = decoded(jpeg);
        const auto kernel = imaging::grayscale(rgb, 1);
        REQUIRE(luma.width == kernel.width);
        REQUIRE(luma.height == kernel.height);
        std::size_t far = 0;
        for (std::size_t i = 0; i < kernel.pixels.size(); ++i) {
            const int difference = std::abs(int{luma.pixels[i]} - int{kernel.pixels[i]});
            if (difference > 1 && !clipped(rgb, i)) {
                ++far;
            }
        }
        CHECK(far == 0);
        // The file is the whole-image encoder's output for exactly these rows.
        auto encoded = imaging::encode(luma, imaging::Format::jpeg, {.jpeg_quality = kQuality});
        REQUIRE(encoded.ok());
        CHECK(result->bytes == *encoded);
    }
    CHECK(luma_files >= 12);
}

TEST_CASE("stream encodes the kernel's rows", "[imaging][stream]") {
    const auto jpeg = imaging::testing::read_data("hostile/adobe-ycck-transform2.jpg");
    imaging::Image rows;
    auto result = imaging::stream_grayscale_jpeg(jpeg, {}, {.luma = true, .gray_rows = &rows});
    REQUIRE(result.ok());
    CHECK(rows.pixels == imaging::grayscale(decoded(jpeg), 2).pixels);
}

TEST_CASE("strip sizes keep the output", "[imaging][stream]") {
    const auto jpeg = imaging::testing::read_data("hostile/3x4097-420.jpg");
    const auto reference = streamed(jpeg, false).bytes;
    for (int rows : {1, 7, 16, 5000}) {
        INFO(rows << " rows per strip");
        CHECK(streamed(jpeg, false, rows).bytes == reference);
    }
    auto two_strips =
        imaging::stream_grayscale_jpeg(jpeg, {}, {.luma = false, .strip_rows = 3, .strips = 2});
    REQUIRE(two_strips.ok());
    CHECK(two_strips->bytes == reference);
}

TEST_CASE("stream fails like decode", "[imaging][stream]") {
    std::vector<std::pair<std::string, Bytes>> files;
    for (const auto& entry :
         std::filesystem::directory_iterator(imaging::testing::data_path("hostile"))) {
        if (entry.path().extension() == ".jpg") {
            files.emplace_back(entry.path().filename().string(),
                               imaging::testing::read_bytes(entry.path()));
        }
    }
    REQUIRE(files.size() >= 15);
    // Cut in the scan, and damaged by a restart marker where none belongs.
    const auto photo = imaging::testing::read_data("test.jpg");
    for (double fraction : {0.3, 0.6, 0.95}) {
        const auto cut = static_cast<std::ptrdiff_t>(photo.size() * fraction);
        files.emplace_back("test.jpg cut at " + std::to_string(fraction),
                           Bytes(photo.begin(), photo.begin() + cut));
    }
    files.emplace_back("test.jpg with a stray RST3",
                       imaging::testing::inserted(photo, photo.size() / 2, {0xFF, 0xD3}));

    int failures = 0;
    for (const auto& [name, jpeg] : files) {
        for (bool luma : {false, true}) {
            INFO(name << (luma ? " (luma)" : " (RGB)"));
            const auto reference = imaging::decode(jpeg);
            const auto result = imaging::stream_grayscale_jpeg(jpeg, {}, {.luma = luma});
            INFO("decode: " << (reference.ok() ? "ok" : reference.error().message));
            INFO("stream: " << (result.ok() ? "ok" : result.error().message));
            REQUIRE(result.ok() == reference.ok());
            if (!reference.ok()) {
                CHECK(result.error().code == reference.error().code);
                ++failures;
            }
        }
    }
    CHECK(failures >= 16);
}

TEST_CASE("stream rejects EXIF turned JPEG", "[imaging][stream]") {
    const auto plain = encoded_jpeg(imaging::testing::make_gradient(48, 32, 3));
    const auto turned =
        imaging::testing::inserted(plain, 2, imaging::testing::exif_segment(6, false));
    const auto result = imaging::stream_grayscale_jpeg(turned, {});
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == Errc::invalid_argument);
    CHECK_THAT(result.error().message, Catch::Contains("whole-image"));
}

namespace {

std::vector<imaging::ValidatedStep> steps(const std::string& text) {
    auto parsed = imaging::parse_pipeline(text);
    REQUIRE(parsed.ok());
    auto validated = imaging::OperationRegistry::global().validate_pipeline(*parsed);
    REQUIRE(validated.ok());
    return std::move(validated).value();
}

}  // namespace

TEST_CASE("path choice follows the job", "[imaging][stream]") {
    using imaging::Format;
    using imaging::PathChoice;
    const imaging::ImageInfo jpeg{.format = Format::jpeg, .width = 8, .height = 8, .channels = 3};
    auto turned = jpeg;
    turned.orientation = 6;
    auto png = jpeg;
    png.format = Format::png;
    const auto gray = steps("grayscale");

    CHECK(imaging::choose_path(PathChoice::automatic, gray, 1, jpeg, Format::jpeg) ==
          KernelPath::luma_stream);
    CHECK(imaging::choose_path(PathChoice::stream, gray, 1, jpeg, Format::jpeg) ==
          KernelPath::stream);
    CHECK(imaging::choose_path(PathChoice::whole_image, gray, 1, jpeg, Format::jpeg) ==
          KernelPath::whole_image);
    CHECK(imaging::choose_path(PathChoice::automatic, gray, 2, jpeg, Format::jpeg) ==
          KernelPath::whole_image);
    CHECK(imaging::choose_path(PathChoice::automatic, gray, 1, turned, Format::jpeg) ==
          KernelPath::whole_image);
    CHECK(imaging::choose_path(PathChoice::automatic, gray, 1, png, Format::jpeg) ==
          KernelPath::whole_image);
    CHECK(imaging::choose_path(PathChoice::automatic, gray, 1, jpeg, Format::png) ==
          KernelPath::whole_image);
    CHECK(imaging::choose_path(PathChoice::automatic, steps("invert"), 1, jpeg, Format::jpeg) ==
          KernelPath::whole_image);
    CHECK(imaging::choose_path(PathChoice::automatic, steps("grayscale,invert"), 1, jpeg,
                               Format::jpeg) == KernelPath::whole_image);
}

TEST_CASE("path names round trip", "[imaging][stream]") {
    for (auto choice : {imaging::PathChoice::automatic, imaging::PathChoice::stream,
                        imaging::PathChoice::whole_image}) {
        const auto parsed = imaging::parse_path_choice(imaging::path_choice_name(choice));
        REQUIRE(parsed.ok());
        CHECK(*parsed == choice);
    }
    const auto wrong = imaging::parse_path_choice("fast");
    REQUIRE_FALSE(wrong.ok());
    CHECK_THAT(wrong.error().message, Catch::Contains("'fast'"));
    CHECK(imaging::kernel_path_name(KernelPath::luma_stream) == "luma-stream");
    CHECK(imaging::kernel_path_name(KernelPath::stream) == "stream");
    CHECK(imaging::kernel_path_name(KernelPath::whole_image) == "whole-image");
}
