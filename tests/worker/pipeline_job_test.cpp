// SPDX-License-Identifier: MIT
// Jobs of several steps, and the op label on the worker metrics.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "imgbus/imaging/codec.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "worker/fakes.hpp"

namespace {

using namespace imgbus;
using namespace imgbus::worker;

struct PipelineFixture {
    PipelineFixture() {
        (void)store.ensure_bucket("input");
        (void)store.ensure_bucket("output");
        std::ifstream file{std::string{IMGBUS_TEST_DATA_DIR} + "/test.jpg", std::ios::binary};
        const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>{file}, {}};
        REQUIRE(store.put_object("input", "photo.jpg", bytes, {}).ok());
    }
    JobMessage job(std::string op, std::vector<JobStep> steps = {}) {
        JobMessage message;
        message.id = "j-p";
        message.op = std::move(op);
        message.steps = std::move(steps);
        message.threads = 2;
        message.input = {"input", "photo.jpg"};
        message.output = {"output", "out.jpg"};
        return message;
    }
    worker::testing::FakeStore store;
    WorkerOptions options;
    metrics::Metrics metrics;
};

std::uint64_t count(prometheus::Histogram& histogram) {
    return histogram.Collect().histogram.sample_count;
}

}  // namespace

TEST_CASE("pipeline job runs its steps in order", "[worker]") {
    PipelineFixture f;
    const auto job = f.job(
        "pipeline",
        {{"resize", {{"width", "480"}}}, {"sharpen", {{"amount", "1.5"}}}, {"grayscale", {}}});
    const auto parsed = parse_job_message(to_json(job));
    REQUIRE(parsed.ok());
    REQUIRE(parsed->steps.size() == 3);
    CHECK(parsed->steps[1].params.at("amount") == "1.5");

    const auto event = process_job(*parsed, f.store, f.options, &f.metrics);
    INFO("error: " << event.error);
    REQUIRE(event.status == JobStatus::done);
    CHECK(event.width == 480);
    CHECK(event.height == 270);
    const auto stored = f.store.get_object("output", "out.jpg");
    REQUIRE(stored.ok());
    const auto info = imaging::probe(stored->data);
    REQUIRE(info.ok());
    CHECK(info->channels == 1);
    CHECK(info->width == 480);

    CHECK(count(f.metrics.operation_seconds("resize")) == 1);
    CHECK(count(f.metrics.operation_seconds("sharpen")) == 1);
    CHECK(count(f.metrics.operation_seconds("grayscale")) == 1);
    CHECK(count(f.metrics.job_stage_seconds("pipeline", "kernel")) == 1);
    // grayscale_* families count grayscale jobs only; a pipeline is not one.
    CHECK(count(f.metrics.grayscale_process_seconds()) == 0);
}

TEST_CASE("pipeline job names its bad step", "[worker]") {
    PipelineFixture f;
    const auto event =
        process_job(f.job("pipeline", {{"invert", {}}, {"rotate", {{"angle", "45"}}}}), f.store,
                    f.options, &f.metrics);
    REQUIRE(event.status == JobStatus::failed);
    CHECK(event.error ==
          "operation failed: step 2 (rotate): parameter 'angle' = '45' is not one of 90, 180, "
          "270");
    CHECK(event.timings.fetch_seconds == 0);
}

TEST_CASE("steps need op pipeline", "[worker]") {
    PipelineFixture f;
    auto without_steps = parse_job_message(to_json(f.job("pipeline")));
    REQUIRE_FALSE(without_steps.ok());
    CHECK_THAT(without_steps.error().message, Catch::Contains("needs a 'steps' list"));

    auto steps_on_single = parse_job_message(to_json(f.job("invert", {{"invert", {}}})));
    REQUIRE_FALSE(steps_on_single.ok());
    CHECK_THAT(steps_on_single.error().message, Catch::Contains("with op 'pipeline'"));

    auto single = parse_job_message(to_json(f.job("gaussian_blur")));
    REQUIRE(single.ok());
    CHECK(single->steps.empty());
    CHECK(to_json(*single).find("steps") == std::string::npos);
}

TEST_CASE("blur job records op-labelled metrics", "[worker]") {
    PipelineFixture f;
    auto job = f.job("gaussian_blur");
    job.params = {{"sigma", "1.5"}};
    const auto event = process_job(job, f.store, f.options, &f.metrics);
    REQUIRE(event.status == JobStatus::done);
    CHECK(event.width == 1920);
    CHECK(count(f.metrics.operation_seconds("gaussian_blur")) == 1);
    CHECK(count(f.metrics.job_stage_seconds("gaussian_blur", "kernel")) == 1);
    CHECK(count(f.metrics.grayscale_process_seconds()) == 0);
}
