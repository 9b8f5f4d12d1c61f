// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "imgbus/imaging/codec.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "worker/fakes.hpp"

namespace {

using namespace imgbus;
using namespace imgbus::worker;
using imgbus::worker::testing::FakeStore;

std::vector<std::uint8_t> read_test_file(const std::string& name) {
    std::ifstream file{std::string{IMGBUS_TEST_DATA_DIR} + "/" + name, std::ios::binary};
    REQUIRE(file.good());
    return {std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
}

JobMessage job_for(const std::string& input_key, const std::string& output_key) {
    JobMessage job;
    job.id = "j-1";
    job.batch = "b-1";
    job.threads = 2;
    job.input = {"input", input_key};
    job.output = {"output", output_key};
    return job;
}

struct Fixture {
    Fixture() {
        (void)store.ensure_bucket("input");
        (void)store.ensure_bucket("output");
    }
    void put_input(const std::string& key, const std::vector<std::uint8_t>& bytes) {
        REQUIRE(store.put_object("input", key, bytes, {}).ok());
    }
    FakeStore store;
    WorkerOptions options;
    metrics::Metrics metrics;
};

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("process_job turns a JPEG gray", "[worker]") {
    Fixture f;
    f.put_input("photo.jpg", read_test_file("test.jpg"));
    auto job = job_for("photo.jpg", "gray.jpg");
    job.path = "whole-image";
    const auto event = process_job(job, f.store, f.options, &f.metrics);

    INFO("error: " << event.error);
    REQUIRE(event.status == JobStatus::done);
    CHECK(event.id == "j-1");
    CHECK(event.batch == "b-1");
    CHECK(event.width == 1920);
    CHECK(event.height == 1080);
    CHECK(event.threads == 2);
    REQUIRE(event.output.has_value());
    CHECK(event.output->key == "gray.jpg");
    CHECK(event.timings.fetch_seconds > 0);
    CHECK(event.timings.decode_seconds > 0);
    CHECK(event.timings.kernel_seconds > 0);
    CHECK(event.timings.encode_seconds > 0);
    CHECK(event.timings.store_seconds > 0);
    CHECK(event.timings.process_seconds >= event.timings.kernel_seconds);
    CHECK(event.timings.path == "whole-image");

    const auto stored = f.store.get_object("output", "gray.jpg");
    REQUIRE(stored.ok());
    CHECK(stored->info.content_type == "image/jpeg");
    const auto info = imaging::probe(stored->data);
    REQUIRE(info.ok());
    CHECK(info->format == imaging::Format::jpeg);
    CHECK(info->width == 1920);
    CHECK(info->height == 1080);
    const auto decoded = imaging::decode(stored->data);
    REQUIRE(decoded.ok());
    CHECK(decoded->channels == 1);

    CHECK(f.metrics.grayscale_process_seconds().Collect().histogram.sample_count == 1);
    CHECK(f.metrics.job_stage_seconds("grayscale", "decode").Collect().histogram.sample_count == 1);
}

TEST_CASE("process_job streams a gray JPEG", "[worker]") {
    Fixture f;
    f.put_input("photo.jpg", read_test_file("test.jpg"));
    std::map<std::string, std::vector<std::uint8_t>> outputs;
    for (const char* path : {"auto", "stream", "whole-image"}) {
        INFO("path " << path);
        auto job = job_for("photo.jpg", std::string(path) + ".jpg");
        job.path = path;
        const auto event = process_job(job, f.store, f.options, &f.metrics);
        INFO("error: " << event.error);
        REQUIRE(event.status == JobStatus::done);
        CHECK(event.width == 1920);
        CHECK(event.height == 1080);
        CHECK(event.timings.decode_seconds > 0);
        CHECK(event.timings.encode_seconds > 0);
        const auto stored = f.store.get_object("output", std::string(path) + ".jpg");
        REQUIRE(stored.ok());
        outputs[path] = stored->data;
        if (std::string(path) == "auto") {
            CHECK(event.timings.path == "luma-stream");
            CHECK(event.timings.kernel_seconds == 0);
        } else {
            CHECK(event.timings.path == path);
            CHECK(event.timings.kernel_seconds > 0);
        }
    }
    // The RGB stream writes the whole-image path's bytes; the luma stream a gray JPEG as large.
    CHECK(outputs["stream"] == outputs["whole-image"]);
    const auto luma = imaging::decode(outputs["auto"]);
    REQUIRE(luma.ok());
    CHECK(luma->channels == 1);
    CHECK(luma->width == 1920);
}

TEST_CASE("process_job keeps PNG as PNG", "[worker]") {
    Fixture f;
    auto image = imaging::make_image(33, 17, 4);
    for (std::size_t i = 0; i < image.pixels.size(); ++i) {
        image.pixels[i] = static_cast<std::uint8_t>(i * 7);
    }
    const auto png = imaging::encode(image, imaging::Format::png);
    REQUIRE(png.ok());
    f.put_input("small.png", *png);

    const auto event = process_job(job_for("small.png", "small-gray.png"), f.store, f.options);
    INFO("error: " << event.error);
    REQUIRE(event.status == JobStatus::done);
    CHECK(event.width == 33);
    CHECK(event.height == 17);

    const auto stored = f.store.get_object("output", "small-gray.png");
    REQUIRE(stored.ok());
    CHECK(stored->info.content_type == "image/png");
    const auto decoded = imaging::decode(stored->data);
    REQUIRE(decoded.ok());
    CHECK(decoded->width == 33);
    CHECK(decoded->height == 17);
    CHECK(decoded->channels == 2);  // gray plus the alpha it kept
}

TEST_CASE("process_job clamps threads to the limit", "[worker]") {
    Fixture f;
    f.put_input("tiny.jpg", read_test_file("hostile/17x17-420.jpg"));
    f.options.max_threads_per_job = 3;
    auto job = job_for("tiny.jpg", "tiny-gray.jpg");
    job.threads = 64;
    const auto event = process_job(job, f.store, f.options);
    REQUIRE(event.status == JobStatus::done);
    CHECK(event.threads == 3);
    CHECK(event.width == 17);
}

TEST_CASE("process_job missing input fails at fetch", "[worker]") {
    Fixture f;
    const auto event = process_job(job_for("absent.jpg", "out.jpg"), f.store, f.options);
    CHECK(event.status == JobStatus::failed);
    CHECK(starts_with(event.error, "fetch failed: "));
    CHECK(event.error.find("absent.jpg") != std::string::npos);
    CHECK_FALSE(event.output.has_value());
    CHECK_FALSE(f.store.get_object("output", "out.jpg").ok());
}

TEST_CASE("process_job corrupt image fails at decode", "[worker]") {
    Fixture f;
    auto bytes = read_test_file("test.jpg");
    bytes.resize(bytes.size() / 2);
    f.put_input("cut.jpg", bytes);
    f.put_input("text.jpg", {'h', 'e', 'l', 'l', 'o'});

    for (const char* key : {"cut.jpg", "text.jpg"}) {
        INFO("input " << key);
        const auto event = process_job(job_for(key, "out.jpg"), f.store, f.options, &f.metrics);
        CHECK(event.status == JobStatus::failed);
        CHECK(starts_with(event.error, "decode failed: "));
        CHECK(event.timings.decode_seconds == 0);
    }
    CHECK_FALSE(f.store.get_object("output", "out.jpg").ok());
}

TEST_CASE("process_job rejects huge declared dimensions", "[worker]") {
    Fixture f;
    f.put_input("tiny.jpg", read_test_file("hostile/17x17-420.jpg"));
    f.options.decode_limits.max_pixels = 100;
    const auto event = process_job(job_for("tiny.jpg", "out.jpg"), f.store, f.options);
    CHECK(event.status == JobStatus::failed);
    CHECK(starts_with(event.error, "decode failed: "));
}

TEST_CASE("process_job unknown operation fails", "[worker]") {
    Fixture f;
    f.put_input("tiny.jpg", read_test_file("hostile/17x17-420.jpg"));
    auto job = job_for("tiny.jpg", "out.jpg");
    job.op = "posterize";
    const auto event = process_job(job, f.store, f.options, &f.metrics);
    CHECK(event.status == JobStatus::failed);
    CHECK(starts_with(event.error, "operation failed: unknown operation 'posterize'"));
    CHECK(event.timings.fetch_seconds == 0);
}

TEST_CASE("process_job bad parameter fails", "[worker]") {
    Fixture f;
    f.put_input("tiny.jpg", read_test_file("hostile/17x17-420.jpg"));
    auto job = job_for("tiny.jpg", "out.jpg");
    job.params = {{"no_such_param", "1"}};
    const auto event = process_job(job, f.store, f.options);
    CHECK(event.status == JobStatus::failed);
    CHECK(starts_with(event.error, "operation failed: "));
}

TEST_CASE("process_job too many passes fails", "[worker]") {
    Fixture f;
    f.put_input("tiny.jpg", read_test_file("hostile/17x17-420.jpg"));
    f.options.max_passes_per_job = 5;
    auto job = job_for("tiny.jpg", "out.jpg");
    job.passes = 6;
    const auto event = process_job(job, f.store, f.options);
    CHECK(event.status == JobStatus::failed);
    CHECK(event.error ==
          "operation failed: passes 6 is outside 1..5, the limit of this worker; ask for fewer "
          "passes");
}

TEST_CASE("process_job store failure fails at store", "[worker]") {
    Fixture f;
    f.put_input("tiny.jpg", read_test_file("hostile/17x17-420.jpg"));
    f.store.fail_puts = true;
    const auto event = process_job(job_for("tiny.jpg", "out.jpg"), f.store, f.options);
    CHECK(event.status == JobStatus::failed);
    CHECK(event.error == "store failed: writing output/out.jpg failed: disk full");
    CHECK(event.timings.encode_seconds > 0);
    CHECK(event.timings.store_seconds == 0);
}

TEST_CASE("process_job exception becomes failed event", "[worker]") {
    Fixture f;
    f.store.before_get = [] { throw std::runtime_error("connection reset"); };
    const auto event = process_job(job_for("tiny.jpg", "out.jpg"), f.store, f.options);
    CHECK(event.status == JobStatus::failed);
    CHECK(event.error == "internal error: unexpected error during fetch: connection reset");

    f.store.before_get = [] { throw std::bad_alloc(); };
    const auto oom = process_job(job_for("tiny.jpg", "out.jpg"), f.store, f.options);
    CHECK(oom.status == JobStatus::failed);
    CHECK(oom.error == "internal error: out of memory");
}
