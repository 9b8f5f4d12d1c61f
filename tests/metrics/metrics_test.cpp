// SPDX-License-Identifier: MIT
#include "imgbus/metrics/metrics.hpp"

#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using imgbus::metrics::Metrics;

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

struct CommandOutput {
    int exit_status = -1;
    std::string output;
};

// Runs a shell command and captures its standard output and error together.
CommandOutput run_command(const std::string& command) {
    CommandOutput result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buffer{};
    std::size_t read = 0;
    while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        result.output.append(buffer.data(), read);
    }
    const int status = ::pclose(pipe);
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string find_promtool() {
    if (const char* configured = std::getenv("IMGBUS_PROMTOOL")) {
        return configured;
    }
    if (std::filesystem::exists("/usr/bin/promtool")) {
        return "/usr/bin/promtool";
    }
    const auto which = run_command("command -v promtool");
    if (which.exit_status != 0) {
        return {};
    }
    return which.output.substr(0, which.output.find('\n'));
}

}  // namespace

TEST_CASE("serialize lists every family at startup", "[metrics]") {
    Metrics metrics;
    const std::string text = metrics.serialize();
    for (const char* family :
         {"frontend_request_seconds", "frontend_publish_total", "frontend_processed_total",
          "frontend_rejected_total", "grayscale_queue_wait_seconds", "grayscale_process_seconds",
          "grayscale_startup_seconds", "grayscale_failures_total",
          "grayscale_reconnect_attempts_total", "imgbus_job_stage_seconds", "imgbus_workers_busy",
          "imgbus_queue_messages_ready", "imgbus_queue_messages_unacked", "imgbus_queue_consumers",
          "imgbus_store_requests_total", "imgbus_store_read_bytes_total",
          "imgbus_store_written_bytes_total", "imgbus_log_errors_total"}) {
        INFO("family " << family);
        CHECK(contains(text, std::string{"# HELP "} + family + " "));
        CHECK(contains(text, std::string{"# TYPE "} + family + " "));
    }
}

TEST_CASE("known series read zero before any event", "[metrics]") {
    Metrics metrics;
    const std::string text = metrics.serialize();
    CHECK(contains(text, "grayscale_reconnect_attempts_total 0\n"));
    CHECK(contains(text, "imgbus_log_errors_total 0\n"));
    CHECK(contains(text, "imgbus_workers_busy 0\n"));
    CHECK(contains(text, "frontend_publish_total{op=\"grayscale\"} 0\n"));
    CHECK(contains(text, "frontend_processed_total{op=\"grayscale\",status=\"failed\"} 0\n"));
    CHECK(contains(text, "grayscale_failures_total{reason=\"decode\"} 0\n"));
    CHECK(contains(text, "grayscale_failures_total{reason=\"bad_message\"} 0\n"));
    CHECK(contains(text, "grayscale_process_seconds_count 0\n"));
    CHECK(contains(text, "imgbus_queue_messages_ready{queue=\"imgbus.jobs\"} 0\n"));
    CHECK(contains(text, "imgbus_store_requests_total{op=\"put\"} 0\n"));
}

TEST_CASE("counters move with the actions", "[metrics]") {
    Metrics metrics;
    metrics.frontend_publish_total("grayscale").Increment();
    metrics.frontend_publish_total("grayscale").Increment();
    metrics.grayscale_failures_total("store").Increment();
    metrics.store_written_bytes_total().Increment(1234);
    metrics.log_errors_total().Increment();

    CHECK(metrics.frontend_publish_total("grayscale").Value() == 2);
    CHECK(metrics.grayscale_failures_total("store").Value() == 1);
    CHECK(metrics.grayscale_failures_total("decode").Value() == 0);

    const std::string text = metrics.serialize();
    CHECK(contains(text, "frontend_publish_total{op=\"grayscale\"} 2\n"));
    CHECK(contains(text, "grayscale_failures_total{reason=\"store\"} 1\n"));
    CHECK(contains(text, "imgbus_store_written_bytes_total 1234\n"));
    CHECK(contains(text, "imgbus_log_errors_total 1\n"));
}

TEST_CASE("histogram observations land in their bucket", "[metrics]") {
    Metrics metrics;
    metrics.grayscale_process_seconds().Observe(0.0004);
    metrics.grayscale_process_seconds().Observe(0.003);
    metrics.job_stage_seconds("grayscale", "decode").Observe(0.012);

    const std::string text = metrics.serialize();
    CHECK(contains(text, "grayscale_process_seconds_bucket{le=\"0.0005\"} 1\n"));
    CHECK(contains(text, "grayscale_process_seconds_bucket{le=\"0.005\"} 2\n"));
    CHECK(contains(text, "grayscale_process_seconds_count 2\n"));
    CHECK(contains(text, "imgbus_job_stage_seconds_count{op=\"grayscale\",stage=\"decode\"} 1\n"));
}

TEST_CASE("request histograms reach 120 seconds", "[metrics]") {
    Metrics metrics;
    metrics.frontend_request_seconds("grayscale").Observe(90);
    const std::string text = metrics.serialize();
    CHECK(contains(text, "frontend_request_seconds_bucket{op=\"grayscale\",le=\"60\"} 0\n"));
    CHECK(contains(text, "frontend_request_seconds_bucket{op=\"grayscale\",le=\"120\"} 1\n"));
}

TEST_CASE("gauges go up and down", "[metrics]") {
    Metrics metrics;
    metrics.workers_busy().Increment();
    metrics.workers_busy().Increment();
    metrics.workers_busy().Decrement();
    metrics.queue_messages_ready("imgbus.jobs").Set(7);
    CHECK(metrics.workers_busy().Value() == 1);
    CHECK(contains(metrics.serialize(), "imgbus_queue_messages_ready{queue=\"imgbus.jobs\"} 7\n"));
}

TEST_CASE("label values are escaped in the output", "[metrics]") {
    Metrics metrics;
    metrics.http_request_seconds("/api/jobs", "POST", "202").Observe(0.01);
    metrics.frontend_rejected_total("quote\"back\\slash\nnewline").Increment();
    const std::string text = metrics.serialize();
    CHECK(contains(text, "route=\"/api/jobs\""));
    CHECK(contains(text, "reason=\"quote\\\"back\\\\slash\\nnewline\""));
}

TEST_CASE("promtool accepts the output without warnings", "[metrics]") {
    if (std::getenv("IMGBUS_SKIP_PROMTOOL") != nullptr) {
        WARN("IMGBUS_SKIP_PROMTOOL is set: promtool check skipped");
        return;
    }
    const std::string promtool = find_promtool();
    INFO(
        "promtool not found: install Debian's prometheus package (scripts/install-deps.sh "
        "--test), set IMGBUS_PROMTOOL to its path, or set IMGBUS_SKIP_PROMTOOL=1 to skip");
    REQUIRE_FALSE(promtool.empty());

    Metrics metrics;
    metrics.grayscale_process_seconds().Observe(0.02);
    metrics.http_request_seconds("/api/jobs", "POST", "202").Observe(0.01);
    metrics.frontend_processed_total("grayscale", "done").Increment();

    const auto path = std::filesystem::temp_directory_path() /
                      ("imgbus-metrics-" + std::to_string(::getpid()) + ".prom");
    {
        std::ofstream file{path};
        file << metrics.serialize();
    }
    const auto checked = run_command("'" + promtool + "' check metrics < '" + path.string() + "'");
    std::filesystem::remove(path);

    INFO("promtool output:\n" << checked.output);
    CHECK(checked.exit_status == 0);
    CHECK(checked.output.empty());
}
