// SPDX-License-Identifier: MIT
// The streaming codec writing through its fixed buffer into a ByteSink.
#include "jpeg_sink.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "imaging/test_files.hpp"
#include "imgbus/imaging/byte_sink.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/grayscale.hpp"
#include "imgbus/imaging/stream.hpp"

namespace imaging = imgbus::imaging;
using Bytes = std::vector<std::uint8_t>;

namespace {

// Keeps every block it receives; fails the write numbered `fail_at` (1-based), if any.
class RecordingSink final : public imaging::ByteSink {
  public:
    explicit RecordingSink(int fail_at = 0) : fail_at_(fail_at) {}

    imgbus::Result<void> write(std::span<const std::uint8_t> bytes) override {
        ++writes;
        if (writes == fail_at_) {
            return imaging::make_error(imaging::Errc::encode_failed,
                                       "writing out.jpg failed on purpose");
        }
        block_sizes.push_back(bytes.size());
        all.insert(all.end(), bytes.begin(), bytes.end());
        return {};
    }

    int writes = 0;
    std::vector<std::size_t> block_sizes;
    Bytes all;

  private:
    int fail_at_;
};

Bytes whole_image(const Bytes& jpeg) {
    auto decoded = imaging::decode(jpeg);
    REQUIRE(decoded.ok());
    auto encoded = imaging::encode(imaging::grayscale(*decoded, 2), imaging::Format::jpeg,
                                   {.jpeg_quality = 90});
    REQUIRE(encoded.ok());
    return *encoded;
}

}  // namespace

TEST_CASE("sink receives the file in full buffers", "[imaging][stream]") {
    const auto jpeg = imaging::testing::read_data("test.jpg");
    const auto reference = whole_image(jpeg);
    for (bool luma : {false, true}) {
        INFO((luma ? "luma" : "RGB"));
        RecordingSink sink;
        auto stats = imaging::stream_grayscale_jpeg(jpeg, {}, {.luma = luma}, sink);
        REQUIRE(stats.ok());
        CHECK(stats->width == 1920);
        CHECK(stats->height == 1080);
        REQUIRE(sink.block_sizes.size() >= 2);
        for (std::size_t i = 0; i + 1 < sink.block_sizes.size(); ++i) {
            CHECK(sink.block_sizes[i] == imaging::detail::kJpegSinkBufferBytes);
        }
        CHECK(sink.block_sizes.back() <= imaging::detail::kJpegSinkBufferBytes);
        CHECK(sink.block_sizes.back() > 0);

        auto collected = imaging::stream_grayscale_jpeg(jpeg, {}, {.luma = luma});
        REQUIRE(collected.ok());
        CHECK(sink.all == collected->bytes);
        if (!luma) {
            CHECK(sink.all == reference);
        }
    }
}

TEST_CASE("failed sink write stops the stream", "[imaging][stream]") {
    const auto jpeg = imaging::testing::read_data("test.jpg");
    for (int fail_at : {1, 2}) {
        for (bool luma : {false, true}) {
            INFO("write " << fail_at << (luma ? " luma" : " RGB"));
            RecordingSink sink(fail_at);
            auto stats = imaging::stream_grayscale_jpeg(jpeg, {}, {.luma = luma}, sink);
            REQUIRE_FALSE(stats.ok());
            CHECK(stats.error().code == imaging::Errc::encode_failed);
            CHECK(stats.error().message == "writing out.jpg failed on purpose");
            CHECK(sink.writes == fail_at);
        }
    }
}

TEST_CASE("failed sink write at the end of the file", "[imaging][stream]") {
    // A file smaller than the buffer reaches the sink only when the encoder finishes.
    const auto jpeg = imaging::testing::read_data("hostile/17x17-420.jpg");
    RecordingSink sink(1);
    auto stats = imaging::stream_grayscale_jpeg(jpeg, {}, {}, sink);
    REQUIRE_FALSE(stats.ok());
    CHECK(stats.error().message == "writing out.jpg failed on purpose");
}

TEST_CASE("vector sink collects every write", "[imaging]") {
    imaging::VectorSink sink(4);
    REQUIRE(sink.write(Bytes{1, 2, 3}).ok());
    REQUIRE(sink.write(Bytes{4, 5, 6}).ok());
    CHECK(sink.take() == Bytes{1, 2, 3, 4, 5, 6});
}
