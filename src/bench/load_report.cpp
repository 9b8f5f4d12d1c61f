// SPDX-License-Identifier: MIT
// Checking load options, and the summary and JSON of a finished load run.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "imgbus/bench/load.hpp"
#include "report_json.hpp"
#include "stats.hpp"

namespace imgbus::bench {
namespace {

using nlohmann::json;

Error invalid_option(const std::string& flag, const std::string& value, const std::string& fix) {
    return Error{std::make_error_code(std::errc::invalid_argument),
                 "invalid " + flag + " " + value + ": " + fix};
}

json to_json(const RequestResult& request) {
    json entry = {{"index", request.index},
                  {"ok", request.ok},
                  {"reason", request.reason},
                  {"message", request.message},
                  {"http_status", request.http_status},
                  {"attempts", request.attempts},
                  {"retry_wait_seconds", request.retry_wait_seconds},
                  {"batch", request.batch_id},
                  {"job", request.job_id},
                  {"job_status", request.job_status},
                  {"followed_by", request.followed_by},
                  {"started_at_seconds", request.started_at_seconds},
                  {"upload_ms", request.upload_seconds * 1e3},
                  {"latency_ms", request.latency_seconds * 1e3}};
    if (request.server) {
        entry["server_timings_ms"] = {{"queue_wait", request.server->queue_wait_ms},
                                      {"kernel", request.server->kernel_ms},
                                      {"process", request.server->process_ms},
                                      {"total", request.server->total_ms}};
    }
    return entry;
}

json options_json(const LoadOptions& options) {
    return {{"url", options.url},
            {"image", options.image_path},
            {"count", options.count},
            {"concurrency", options.concurrency},
            {"delay_seconds", options.delay_seconds},
            {"timeout_seconds", options.timeout_seconds},
            {"retries", options.retries},
            {"threads", options.threads},
            {"passes", options.passes},
            {"op", options.op},
            {"events", options.use_events}};
}

}  // namespace

Result<void> validate(const LoadOptions& options) {
    if (options.count < 1 || options.count > 100'000) {
        return invalid_option("--count", std::to_string(options.count), "use 1..100000 requests");
    }
    if (options.concurrency < 1 || options.concurrency > 256) {
        return invalid_option("--concurrency", std::to_string(options.concurrency),
                              "use 1..256 requests in flight");
    }
    if (!(options.delay_seconds >= 0 && options.delay_seconds <= 60)) {
        return invalid_option("--delay", fmt::format("{}", options.delay_seconds),
                              "use 0..60 seconds between requests");
    }
    if (!(options.timeout_seconds > 0 && options.timeout_seconds <= 3600)) {
        return invalid_option("--timeout", fmt::format("{}", options.timeout_seconds),
                              "use more than 0 and at most 3600 seconds");
    }
    if (options.retries < 0 || options.retries > 20) {
        return invalid_option("--retries", std::to_string(options.retries), "use 0..20");
    }
    if (options.threads < 1 || options.passes < 1) {
        return invalid_option(
            "--threads/--passes",
            std::to_string(options.threads) + "/" + std::to_string(options.passes),
            "both must be at least 1");
    }
    if (!(options.min_success >= 0 && options.min_success <= 100)) {
        return invalid_option("--min-success", fmt::format("{}", options.min_success),
                              "use a percentage 0..100");
    }
    return {};
}

LoadSummary summarize(const std::vector<RequestResult>& requests, double wall_seconds) {
    LoadSummary summary;
    std::vector<double> latencies;
    std::vector<double> server_totals;
    double kernel_ms_sum = 0;
    for (const auto& request : requests) {
        ++summary.sent;
        summary.retries += std::max(request.attempts - 1, 0);
        if (!request.ok) {
            ++summary.failed;
            ++summary.failures_by_reason[request.reason.empty() ? "unknown" : request.reason];
            continue;
        }
        ++summary.succeeded;
        latencies.push_back(request.latency_seconds);
        if (request.server) {
            server_totals.push_back(request.server->total_ms / 1e3);
            kernel_ms_sum += request.server->kernel_ms;
        }
    }
    summary.success_percent = summary.sent == 0 ? 0 : 100.0 * summary.succeeded / summary.sent;
    summary.wall_seconds = wall_seconds;
    summary.throughput_jobs_per_second = wall_seconds > 0 ? summary.succeeded / wall_seconds : 0;
    summary.latency = summarize_latencies(latencies);
    summary.server_total = summarize_latencies(server_totals);
    summary.kernel_ms_avg =
        server_totals.empty() ? 0 : kernel_ms_sum / static_cast<double>(server_totals.size());
    return summary;
}

std::string format_summary(const LoadSummary& summary) {
    std::string text = fmt::format(
        "sent {}, succeeded {}, failed {}, success rate {:.1f}%, retries {}\n", summary.sent,
        summary.succeeded, summary.failed, summary.success_percent, summary.retries);
    for (const auto& [reason, count] : summary.failures_by_reason) {
        text += fmt::format("  failed with {}: {}\n", reason, count);
    }
    const auto& client = summary.latency;
    text += fmt::format(
        "latency (upload to done) ms: avg {:.1f}  p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max "
        "{:.1f}\n",
        client.avg * 1e3, client.p50 * 1e3, client.p95 * 1e3, client.p99 * 1e3, client.max * 1e3);
    const auto& server = summary.server_total;
    text += fmt::format(
        "server total_ms:             avg {:.1f}  p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max "
        "{:.1f}\n",
        server.avg * 1e3, server.p50 * 1e3, server.p95 * 1e3, server.p99 * 1e3, server.max * 1e3);
    text += fmt::format("kernel avg {:.2f} ms; throughput {:.2f} jobs/s over {:.2f} s\n",
                        summary.kernel_ms_avg, summary.throughput_jobs_per_second,
                        summary.wall_seconds);
    return text;
}

json summary_json(const LoadSummary& summary) {
    return {{"sent", summary.sent},
            {"succeeded", summary.succeeded},
            {"failed", summary.failed},
            {"failures", summary.failures_by_reason},
            {"success_percent", summary.success_percent},
            {"retries", summary.retries},
            {"wall_seconds", summary.wall_seconds},
            {"throughput_jobs_per_second", summary.throughput_jobs_per_second},
            {"latency_ms", latency_json(summary.latency)},
            {"server_total_ms", latency_json(summary.server_total)},
            {"kernel_ms_avg", summary.kernel_ms_avg}};
}

json latency_json(const LatencySummary& latency) {
    return {{"count", latency.count},   {"min", latency.min * 1e3}, {"avg", latency.avg * 1e3},
            {"p50", latency.p50 * 1e3}, {"p95", latency.p95 * 1e3}, {"p99", latency.p99 * 1e3},
            {"max", latency.max * 1e3}};
}

std::string report_json(const LoadReport& report) {
    json requests = json::array();
    for (const auto& request : report.requests) {
        requests.push_back(to_json(request));
    }
    const json document = {{"options", options_json(report.options)},
                           {"summary", summary_json(report.summary)},
                           {"requests", std::move(requests)}};
    return document.dump(2) + "\n";
}

}  // namespace imgbus::bench
