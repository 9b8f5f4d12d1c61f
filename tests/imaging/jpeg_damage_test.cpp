// SPDX-License-Identifier: MIT
// Harmless and harmful libjpeg warnings, and the EXIF orientation of JPEG inputs.
#include <catch2/catch.hpp>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/error.hpp"

namespace imaging = imgbus::imaging;
using imaging::Errc;
using Bytes = std::vector<std::uint8_t>;
using imaging::testing::exif_segment;
using imaging::testing::inserted;

namespace {

Bytes encode_jpeg(const imaging::Image& image) {
    auto encoded = imaging::encode(image, imaging::Format::jpeg, {.jpeg_quality = 95});
    REQUIRE(encoded.ok());
    return *encoded;
}

// Offset of the first byte after the SOS segment: the start of the entropy-coded data.
std::size_t scan_start(const Bytes& jpeg) {
    for (std::size_t i = 2; i + 3 < jpeg.size(); ++i) {
        if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) {
            return i + 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
        }
    }
    FAIL("no SOS segment");
    return 0;
}

const Bytes kJunk = {0x12, 0x34, 0x56, 0x78, 0x9A};

}  // namespace

TEST_CASE("junk bytes before the EOI marker decode like the clean file", "[imaging][jpeg]") {
    const auto clean = imaging::testing::read_data("test.jpg");
    REQUIRE(clean[clean.size() - 2] == 0xFF);
    REQUIRE(clean.back() == 0xD9);
    const auto expected = imaging::decode(clean);
    REQUIRE(expected.ok());

    const auto junk = inserted(clean, clean.size() - 2, kJunk);
    auto decoded = imaging::decode(junk);
    INFO((decoded.ok() ? "" : decoded.error().message));
    REQUIRE(decoded.ok());
    CHECK(decoded->pixels == expected->pixels);
}

TEST_CASE("junk bytes between header segments decode", "[imaging][jpeg]") {
    const auto clean = encode_jpeg(imaging::testing::make_gradient(64, 48, 3));
    const auto expected = imaging::decode(clean);
    REQUIRE(expected.ok());
    // After SOI and the first segment (APP0 or DQT) comes the next marker.
    const std::size_t second_marker = 4 + ((clean[4] << 8) | clean[5]);
    REQUIRE(clean[second_marker] == 0xFF);
    const auto junk = inserted(clean, second_marker, kJunk);
    CHECK(imaging::probe(junk).ok());
    auto decoded = imaging::decode(junk);
    INFO((decoded.ok() ? "" : decoded.error().message));
    REQUIRE(decoded.ok());
    CHECK(decoded->pixels == expected->pixels);
}

TEST_CASE("a JPEG cut in the middle of its scan fails as truncated", "[imaging][jpeg]") {
    const auto clean = imaging::testing::read_data("test.jpg");
    const std::size_t start = scan_start(clean);
    for (double fraction : {0.1, 0.5, 0.9}) {
        const auto cut = start + static_cast<std::size_t>((clean.size() - start) * fraction);
        const Bytes truncated(clean.begin(), clean.begin() + static_cast<std::ptrdiff_t>(cut));
        auto decoded = imaging::decode(truncated);
        REQUIRE_FALSE(decoded.ok());
        CHECK(decoded.error().code == Errc::truncated);
        CHECK_THAT(decoded.error().message, Catch::Contains("Premature end of JPEG file"));
    }
}

TEST_CASE("damaged scan data fails even after a harmless warning", "[imaging][jpeg]") {
    const auto clean = encode_jpeg(imaging::testing::make_pattern(96, 64, 3));
    const std::size_t middle = scan_start(clean) + (clean.size() - scan_start(clean)) / 2;
    // A restart marker where none is expected leaves the rest of the scan undecoded.
    const auto damaged = inserted(clean, middle, {0xFF, 0xD3});
    auto decoded = imaging::decode(damaged);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == Errc::corrupt);
    CHECK_THAT(decoded.error().message, Catch::Contains("Corrupt JPEG data"));

    // The same damage after junk between segments: the first warning is harmless, the second
    // is not, and TurboJPEG alone would report only the first.
    const std::size_t second_marker = 4 + ((damaged[4] << 8) | damaged[5]);
    auto both = imaging::decode(inserted(damaged, second_marker, kJunk));
    REQUIRE_FALSE(both.ok());
    CHECK(both.error().code == Errc::corrupt);
    CHECK_THAT(both.error().message, Catch::Contains("rows cannot be decoded"));
}

TEST_CASE("JPEGs are turned upright by their EXIF orientation", "[imaging][jpeg]") {
    imaging::testing::TempDir dir;
    const auto plain = encode_jpeg(imaging::testing::make_gradient(48, 32, 3));
    for (int orientation = 1; orientation <= 8; ++orientation) {
        for (bool big_endian : {false, true}) {
            INFO("orientation " << orientation << (big_endian ? " big" : " little") << "-endian");
            const auto tagged = inserted(plain, 2, exif_segment(orientation, big_endian));
            auto info = imaging::probe(tagged);
            REQUIRE(info.ok());
            CHECK(info->orientation == orientation);
            auto decoded = imaging::decode(tagged);
            REQUIRE(decoded.ok());
            CHECK(decoded->width == info->width);
            CHECK(decoded->height == info->height);
            CHECK(decoded->width == (orientation >= 5 ? 32 : 48));

            // ImageMagick's -auto-orient of the same file is the independent answer.
            const auto in_path = dir / "tagged.jpg", out_path = dir / "upright.png";
            std::ofstream(in_path, std::ios::binary)
                .write(reinterpret_cast<const char*>(tagged.data()),
                       static_cast<std::streamsize>(tagged.size()));
            imaging::testing::run_convert(in_path.string() + " -auto-orient " + out_path.string());
            auto expected = imaging::decode(imaging::testing::read_bytes(out_path));
            REQUIRE(expected.ok());
            REQUIRE(expected->width == decoded->width);
            CHECK(imaging::testing::max_abs_difference(*decoded, *expected) <= 3);
        }
    }
}
