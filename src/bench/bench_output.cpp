// SPDX-License-Identifier: MIT
#include "bench_output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "http_client.hpp"
#include "plot.hpp"
#include "report_json.hpp"

namespace imgbus::bench {
namespace {

using nlohmann::json;

json step_json(const BenchStep& step) {
    json entry = summary_json(step.summary);
    entry["threads"] = step.threads;
    entry["count"] = step.count;
    entry["server"] = {{"scraped", step.server.scraped},
                       {"processed", step.server.processed},
                       {"queue_wait_ms_avg", step.server.queue_wait_ms_avg},
                       {"process_ms_avg", step.server.process_ms_avg},
                       {"total_ms_avg", step.server.total_ms_avg},
                       {"queue_wait_count", step.server.queue_wait_count},
                       {"process_count", step.server.process_count},
                       {"total_count", step.server.total_count}};
    return entry;
}

Result<void> write_text(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        return Error{
            std::error_code(errno, std::generic_category()),
            "cannot write " + path + ": " + std::strerror(errno) + "; choose a writable --output"};
    }
    return {};
}

std::string failures_text(const std::map<std::string, int>& failures) {
    std::string text;
    for (const auto& [reason, count] : failures) {
        text += (text.empty() ? "" : ";") + reason + "=" + std::to_string(count);
    }
    return text;
}

}  // namespace

json bench_json(const BenchReport& report) {
    json steps = json::array();
    for (const auto& step : report.steps) {
        steps.push_back(step_json(step));
    }
    json speedup = json::array();
    for (const auto& point : report.speedup) {
        speedup.push_back({{"threads", point.threads},
                           {"kernel_ms_avg", point.kernel_ms_avg},
                           {"speedup", point.speedup}});
    }
    return {{"format", "imgbus-bench/1"},
            {"generated_at", report.generated_at},
            {"url", report.url},
            {"image", report.image_path},
            {"settings",
             {{"counts", report.counts},
              {"thread_counts", report.thread_counts},
              {"thread_sweep", report.thread_sweep},
              {"concurrency", report.concurrency},
              {"delay_seconds", report.delay_seconds},
              {"passes", report.passes},
              {"op", report.op},
              {"safer", report.safer}}},
            {"steps", std::move(steps)},
            {"speedup", std::move(speedup)}};
}

std::string bench_csv(const BenchReport& report) {
    std::string csv =
        "threads,count,sent,succeeded,failed,success_percent,retries,wall_seconds,"
        "throughput_jobs_per_second,latency_avg_ms,latency_p50_ms,latency_p95_ms,"
        "latency_p99_ms,latency_max_ms,server_total_avg_ms,kernel_avg_ms,"
        "metrics_processed,metrics_queue_wait_avg_ms,metrics_process_avg_ms,"
        "metrics_total_avg_ms,failures\n";
    for (const auto& step : report.steps) {
        const auto& s = step.summary;
        csv += fmt::format(
            "{},{},{},{},{},{:.2f},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},"
            "{:.3f},{},{:.3f},{:.3f},{:.3f},\"{}\"\n",
            step.threads, step.count, s.sent, s.succeeded, s.failed, s.success_percent, s.retries,
            s.wall_seconds, s.throughput_jobs_per_second, s.latency.avg * 1e3, s.latency.p50 * 1e3,
            s.latency.p95 * 1e3, s.latency.p99 * 1e3, s.latency.max * 1e3, s.server_total.avg * 1e3,
            s.kernel_ms_avg, step.server.processed, step.server.queue_wait_ms_avg,
            step.server.process_ms_avg, step.server.total_ms_avg,
            failures_text(s.failures_by_reason));
    }
    return csv;
}

std::string sibling_path(const std::string& png_path, const std::string& extension) {
    return std::filesystem::path(png_path).replace_extension(extension).string();
}

// The JSON and CSV come first: a plot that fails to draw must not lose the numbers.
Result<std::vector<std::string>> write_bench_outputs(const BenchReport& report,
                                                     const std::string& png_path) {
    const std::string json_path = sibling_path(png_path, ".json");
    if (auto written = write_text(json_path, bench_json(report).dump(2) + "\n"); !written) {
        return written.error();
    }
    const std::string csv_path = sibling_path(png_path, ".csv");
    if (auto written = write_text(csv_path, bench_csv(report)); !written) {
        return written.error();
    }
    if (auto drawn = render_benchmark_png(report, png_path); !drawn) {
        return Error{drawn.error().code, drawn.error().message + "; the results are in " +
                                             json_path + " and " + csv_path};
    }
    return std::vector<std::string>{json_path, csv_path, png_path};
}

Result<void> publish_report(const BenchReport& report, const std::string& url) {
    auto server = parse_server_url(url);
    if (!server) {
        return server.error();
    }
    HttpClient client(*server);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto response = client.request(boost::beast::http::verb::put, "/api/benchmarks/latest",
                                   bench_json(report).dump(), "application/json", deadline);
    if (!response) {
        return response.error();
    }
    if (response->status / 100 != 2) {
        return Error{std::make_error_code(std::errc::operation_not_supported),
                     "PUT /api/benchmarks/latest returned " + std::to_string(response->status) +
                         ": " + response->body.substr(0, 200)};
    }
    return {};
}

}  // namespace imgbus::bench
