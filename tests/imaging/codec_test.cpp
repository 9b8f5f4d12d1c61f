// SPDX-License-Identifier: MIT
#include "imgbus/imaging/codec.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "imaging/test_files.hpp"

namespace imaging = imgbus::imaging;
using imaging::Errc;
using imaging::Format;
using imaging::testing::make_gradient;
using imaging::testing::make_pattern;
using imaging::testing::max_abs_difference;
using imaging::testing::read_bytes;
using imaging::testing::run_convert;
using imaging::testing::TempDir;

namespace {

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    REQUIRE(file.good());
}

imaging::Image decode_file(const std::filesystem::path& path) {
    auto decoded = imaging::decode(read_bytes(path));
    INFO(path.string() << ": " << (decoded.ok() ? "" : decoded.error().message));
    REQUIRE(decoded.ok());
    return std::move(decoded).value();
}

// A picture with 16 distinct colours, so that ImageMagick writes it as a palette PNG.
imaging::Image make_few_colours(int width, int height) {
    imaging::Image image = imaging::make_image(width, height, 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            std::uint8_t* p = image.row(y) + 3 * x;
            const int index = (x / 4 + y / 4) % 16;
            p[0] = static_cast<std::uint8_t>(index * 16);
            p[1] = static_cast<std::uint8_t>(255 - index * 16);
            p[2] = static_cast<std::uint8_t>(index * 7);
        }
    }
    return image;
}

}  // namespace

TEST_CASE("png round trip keeps every channel count", "[imaging]") {
    for (int channels = 1; channels <= 4; ++channels) {
        const auto image = make_pattern(37, 23, channels, channels);
        auto encoded = imaging::encode(image, Format::png);
        REQUIRE(encoded.ok());
        auto info = imaging::probe(*encoded);
        REQUIRE(info.ok());
        CHECK(info->format == Format::png);
        CHECK(info->channels == channels);
        auto decoded = imaging::decode(*encoded);
        REQUIRE(decoded.ok());
        CHECK(decoded->channels == channels);
        CHECK(decoded->width == 37);
        CHECK(decoded->height == 23);
        CHECK(decoded->pixels == image.pixels);
    }
}

TEST_CASE("png filters all decode", "[imaging]") {
    const auto image = make_gradient(61, 37, 4);  // smooth, so the filters compress differently
    std::set<std::size_t> sizes;
    for (auto filter :
         {imaging::PngFilter::none, imaging::PngFilter::sub, imaging::PngFilter::up,
          imaging::PngFilter::average, imaging::PngFilter::paeth, imaging::PngFilter::adaptive}) {
        INFO(imaging::png_filter_name(filter));
        auto parsed = imaging::parse_png_filter(imaging::png_filter_name(filter));
        REQUIRE(parsed.ok());
        CHECK(*parsed == filter);
        auto encoded = imaging::encode(image, Format::png, {.png_filter = filter});
        REQUIRE(encoded.ok());
        sizes.insert(encoded->size());
        auto decoded = imaging::decode(*encoded);
        REQUIRE(decoded.ok());
        CHECK(decoded->pixels == image.pixels);
    }
    CHECK(sizes.size() >= 4);  // the filter reaches libpng
    const auto unknown = imaging::parse_png_filter("best");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().code == imaging::Errc::invalid_argument);
}

TEST_CASE("png compression levels all decode", "[imaging]") {
    const auto image = make_gradient(64, 64, 3);
    for (int level : {0, 1, 9}) {
        imaging::EncodeOptions options;
        options.png_compression = level;
        auto encoded = imaging::encode(image, Format::png, options);
        REQUIRE(encoded.ok());
        auto decoded = imaging::decode(*encoded);
        REQUIRE(decoded.ok());
        CHECK(decoded->pixels == image.pixels);
    }
}

TEST_CASE("jpeg round trip of colour and gray", "[imaging]") {
    for (int channels = 1; channels <= 4; ++channels) {
        const auto image = make_gradient(101, 67, channels);
        auto encoded = imaging::encode(image, Format::jpeg);
        REQUIRE(encoded.ok());
        auto decoded = imaging::decode(*encoded);
        REQUIRE(decoded.ok());
        const int expected_channels = channels <= 2 ? 1 : 3;
        INFO(channels << " channels in");
        CHECK(decoded->channels == expected_channels);
        CHECK(decoded->width == 101);
        CHECK(decoded->height == 67);

        // JPEG drops alpha: compare with the colour channels only.
        imaging::Image opaque = imaging::make_image(101, 67, expected_channels);
        for (std::size_t i = 0; i < opaque.pixels.size() / expected_channels; ++i) {
            for (int c = 0; c < expected_channels; ++c) {
                opaque.pixels[i * expected_channels + c] = image.pixels[i * channels + c];
            }
        }
        CHECK(max_abs_difference(*decoded, opaque) <= 12);
    }
}

TEST_CASE("jpeg gray encodes as one component", "[imaging]") {
    auto encoded = imaging::encode(make_gradient(16, 16, 1), Format::jpeg);
    REQUIRE(encoded.ok());
    auto info = imaging::probe(*encoded);
    REQUIRE(info.ok());
    CHECK(info->channels == 1);
}

TEST_CASE("jpeg quality changes the size", "[imaging]") {
    const auto image = make_pattern(128, 128, 3);
    imaging::EncodeOptions low;
    low.jpeg_quality = 10;
    imaging::EncodeOptions high;
    high.jpeg_quality = 100;
    auto small = imaging::encode(image, Format::jpeg, low);
    auto large = imaging::encode(image, Format::jpeg, high);
    REQUIRE(small.ok());
    REQUIRE(large.ok());
    CHECK(small->size() < large->size());
}

TEST_CASE("encode rejects bad options and shapes", "[imaging]") {
    const auto image = make_pattern(8, 8, 3);
    imaging::EncodeOptions options;
    options.jpeg_quality = 0;
    auto bad_quality = imaging::encode(image, Format::jpeg, options);
    REQUIRE_FALSE(bad_quality.ok());
    CHECK(bad_quality.error().code == Errc::invalid_argument);
    CHECK_THAT(bad_quality.error().message, Catch::Contains("0"));

    options = {};
    options.png_compression = 10;
    auto bad_level = imaging::encode(image, Format::png, options);
    REQUIRE_FALSE(bad_level.ok());
    CHECK(bad_level.error().code == Errc::invalid_argument);

    imaging::Image short_buffer = image;
    short_buffer.pixels.pop_back();
    auto bad_buffer = imaging::encode(short_buffer, Format::png);
    REQUIRE_FALSE(bad_buffer.ok());
    CHECK(bad_buffer.error().code == Errc::invalid_argument);

    imaging::Image empty;
    auto nothing = imaging::encode(empty, Format::jpeg);
    REQUIRE_FALSE(nothing.ok());
    CHECK(nothing.error().code == Errc::invalid_argument);
}

TEST_CASE("jpeg variants made by ImageMagick decode", "[imaging]") {
    TempDir dir;
    const auto image = make_gradient(120, 90, 3);
    write_file(dir / "in.png", *imaging::encode(image, Format::png));

    SECTION("progressive") {
        run_convert((dir / "in.png").string() + " -quality 95 -interlace Plane " +
                    (dir / "out.jpg").string());
        auto info = imaging::probe(read_bytes(dir / "out.jpg"));
        REQUIRE(info.ok());
        CHECK(info->progressive);
        CHECK(max_abs_difference(decode_file(dir / "out.jpg"), image) <= 12);
    }
    SECTION("4:4:4 sampling") {
        run_convert((dir / "in.png").string() + " -quality 95 -sampling-factor 1x1 " +
                    (dir / "out.jpg").string());
        CHECK(max_abs_difference(decode_file(dir / "out.jpg"), image) <= 12);
    }
    SECTION("grayscale") {
        run_convert((dir / "in.png").string() + " -colorspace Gray " + (dir / "out.jpg").string());
        CHECK(decode_file(dir / "out.jpg").channels == 1);
    }
    SECTION("cmyk") {
        run_convert((dir / "in.png").string() + " -quality 95 -colorspace CMYK " +
                    (dir / "out.jpg").string());
        const auto decoded = decode_file(dir / "out.jpg");
        CHECK(decoded.channels == 3);
        CHECK(max_abs_difference(decoded, image) <= 12);
    }
}

TEST_CASE("png variants made by ImageMagick decode", "[imaging]") {
    TempDir dir;
    const auto image = make_pattern(45, 33, 3);
    write_file(dir / "rgb.png", *imaging::encode(image, Format::png));
    const auto rgba = make_pattern(45, 33, 4);
    write_file(dir / "rgba.png", *imaging::encode(rgba, Format::png));

    SECTION("16-bit RGB reduces to the 8-bit values") {
        run_convert((dir / "rgb.png").string() + " -depth 16 PNG48:" + (dir / "out.png").string());
        const auto decoded = decode_file(dir / "out.png");
        CHECK(decoded.channels == 3);
        CHECK(decoded.pixels == image.pixels);
    }
    SECTION("16-bit RGBA reduces to the 8-bit values") {
        run_convert((dir / "rgba.png").string() + " -depth 16 PNG64:" + (dir / "out.png").string());
        const auto decoded = decode_file(dir / "out.png");
        CHECK(decoded.channels == 4);
        CHECK(decoded.pixels == rgba.pixels);
    }
    SECTION("interlaced") {
        run_convert((dir / "rgb.png").string() +
                    " -interlace PNG PNG24:" + (dir / "out.png").string());
        auto info = imaging::probe(read_bytes(dir / "out.png"));
        REQUIRE(info.ok());
        CHECK(info->progressive);
        CHECK(decode_file(dir / "out.png").pixels == image.pixels);
    }
    SECTION("palette expands to RGB") {
        const auto few = make_few_colours(40, 24);
        write_file(dir / "few.png", *imaging::encode(few, Format::png));
        run_convert((dir / "few.png").string() + " PNG8:" + (dir / "out.png").string());
        const auto decoded = decode_file(dir / "out.png");
        CHECK(decoded.channels == 3);
        CHECK(decoded.pixels == few.pixels);
    }
    SECTION("1-bit gray expands to 0 and 255") {
        run_convert("-size 16x8 pattern:checkerboard -threshold 50% -depth 1 -type Bilevel " +
                    (dir / "out.png").string());
        const auto decoded = decode_file(dir / "out.png");
        CHECK(decoded.channels == 1);
        for (auto value : decoded.pixels) {
            REQUIRE((value == 0 || value == 255));
        }
    }
}
