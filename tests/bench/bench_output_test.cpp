// SPDX-License-Identifier: MIT
#include "bench_output.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "imgbus/bench/load.hpp"

using namespace imgbus::bench;

namespace {

BenchReport sample_report() {
    BenchReport report;
    report.generated_at = "2026-01-02T03:04:05Z";
    report.url = "http://127.0.0.1:8080";
    report.image_path = "tests/data/test.jpg";
    report.concurrency = 2;
    report.op = "grayscale";
    report.counts = {1, 5};
    report.thread_counts = {1, 2};
    report.thread_sweep = true;
    for (int threads : report.thread_counts) {
        for (int count : report.counts) {
            BenchStep step;
            step.threads = threads;
            step.count = count;
            step.summary.sent = count;
            step.summary.succeeded = count;
            step.summary.success_percent = 100;
            step.summary.latency.avg = 0.010 * count / threads;
            step.summary.latency.p95 = 0.015 * count / threads;
            step.summary.throughput_jobs_per_second = 10.0 * threads;
            step.summary.kernel_ms_avg = 4.0 / threads;
            step.server.scraped = true;
            step.server.processed = count;
            step.server.total_ms_avg = 9;
            report.steps.push_back(step);
        }
    }
    report.speedup = {{1, 4.0, 1.0}, {2, 2.0, 2.0}};
    return report;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream input(text);
    for (std::string line; std::getline(input, line);) {
        lines.push_back(line);
    }
    return lines;
}

}  // namespace

TEST_CASE("bench json has settings, steps and speed-up", "[bench]") {
    const auto json = bench_json(sample_report());
    CHECK(json["format"] == "imgbus-bench/1");
    CHECK(json["settings"]["counts"] == nlohmann::json({1, 5}));
    CHECK(json["settings"]["thread_sweep"] == true);
    REQUIRE(json["steps"].size() == 4);
    const auto& last = json["steps"][3];
    CHECK(last["threads"] == 2);
    CHECK(last["count"] == 5);
    CHECK(last["succeeded"] == 5);
    CHECK(last["latency_ms"]["avg"].get<double>() == Approx(25.0));
    CHECK(last["server"]["processed"] == 5);
    REQUIRE(json["speedup"].size() == 2);
    CHECK(json["speedup"][1]["speedup"] == 2.0);
}

TEST_CASE("bench csv has a header and a row per step", "[bench]") {
    const auto lines = lines_of(bench_csv(sample_report()));
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].rfind("threads,count,sent,succeeded,failed,success_percent", 0) == 0);
    CHECK(lines[4].rfind("2,5,5,5,0,100.00,", 0) == 0);
    const auto columns = std::count(lines[0].begin(), lines[0].end(), ',');
    for (std::size_t i = 1; i < lines.size(); ++i) {
        CHECK(std::count(lines[i].begin(), lines[i].end(), ',') == columns);
    }
}

TEST_CASE("bench csv quotes the failure reasons", "[bench]") {
    auto report = sample_report();
    report.steps[0].summary.failures_by_reason = {{"http_503", 2}, {"timeout", 1}};
    const auto lines = lines_of(bench_csv(report));
    CHECK_THAT(lines[1], Catch::EndsWith(",\"http_503=2;timeout=1\""));
}

TEST_CASE("sibling paths replace the extension", "[bench]") {
    CHECK(sibling_path("out/benchmark.png", ".json") == "out/benchmark.json");
    CHECK(sibling_path("benchmark_safe.png", ".csv") == "benchmark_safe.csv");
    CHECK(sibling_path("plot", ".json") == "plot.json");
}

TEST_CASE("failed plot keeps json and csv", "[bench]") {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() / ("imgbus-bench-out-" + std::to_string(getpid()));
    fs::remove_all(dir);
    // A directory where the PNG should go: cairo cannot write it, while its siblings can.
    const fs::path png = dir / "plot.png";
    fs::create_directories(png);
    const auto written = write_bench_outputs(sample_report(), png.string());
    REQUIRE_FALSE(written.ok());
    CHECK_THAT(written.error().message, Catch::Contains((dir / "plot.json").string()));
    CHECK(fs::file_size(dir / "plot.json") > 0);
    CHECK(fs::file_size(dir / "plot.csv") > 0);
    fs::remove_all(dir);
}

TEST_CASE("load report json lists every request", "[bench]") {
    LoadReport report;
    report.options.count = 2;
    report.requests.resize(2);
    report.requests[0].ok = true;
    report.requests[0].latency_seconds = 0.25;
    report.requests[0].server = ServerTimings{1, 2, 3, 4};
    report.requests[1].index = 1;
    report.requests[1].reason = "http_503";
    report.summary = summarize(report.requests, 1.0);
    const auto json = nlohmann::json::parse(report_json(report));
    REQUIRE(json["requests"].size() == 2);
    CHECK(json["requests"][0]["latency_ms"].get<double>() == Approx(250.0));
    CHECK(json["requests"][0]["server_timings_ms"]["total"] == 4.0);
    CHECK(json["requests"][1]["reason"] == "http_503");
    CHECK_FALSE(json["requests"][1].contains("server_timings_ms"));
    CHECK(json["summary"]["failures"]["http_503"] == 1);
    CHECK(json["summary"]["success_percent"] == 50.0);
}

TEST_CASE("summary text names each failure reason", "[bench]") {
    std::vector<RequestResult> requests(3);
    requests[0].ok = true;
    requests[0].latency_seconds = 0.1;
    requests[1].reason = "job_failed";
    requests[2].reason = "job_failed";
    const auto text = format_summary(summarize(requests, 1.0));
    CHECK_THAT(text, Catch::Contains("sent 3, succeeded 1, failed 2, success rate 33.3%"));
    CHECK_THAT(text, Catch::Contains("failed with job_failed: 2"));
    CHECK_THAT(text, Catch::Contains("p95"));
    CHECK_THAT(text, Catch::Contains("throughput 1.00 jobs/s"));
}

TEST_CASE("bench options under safer mode", "[bench]") {
    BenchOptions options;
    options.load.image_path = "x.jpg";
    options.load.concurrency = 8;
    options.safer = true;
    auto safer = prepare(options, false);
    REQUIRE(safer.ok());
    CHECK(safer->load.concurrency == 2);
    CHECK(safer->load.delay_seconds >= 0.5);
    CHECK(safer->output == "benchmark_safe.png");

    options.output = "mine.png";
    auto kept = prepare(options, true);
    REQUIRE(kept.ok());
    CHECK(kept->output == "mine.png");
}

TEST_CASE("bench options reject unbounded runs", "[bench]") {
    BenchOptions options;
    options.counts = {};
    CHECK_FALSE(prepare(options, false).ok());
    options.counts = {0};
    CHECK_FALSE(prepare(options, false).ok());
    options.counts = {10000, 10000, 10000};
    auto too_many = prepare(options, false);
    REQUIRE_FALSE(too_many.ok());
    CHECK_THAT(too_many.error().message, Catch::Contains("over the limit"));
    options.counts = {1};
    options.thread_counts = {0};
    CHECK_FALSE(prepare(options, false).ok());
}
