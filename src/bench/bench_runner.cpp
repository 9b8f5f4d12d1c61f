// SPDX-License-Identifier: MIT
// run_bench: one load step per (thread count, request count), each between two /metrics scrapes.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "cairo_library.hpp"
#include "http_client.hpp"
#include "imgbus/bench/bench.hpp"
#include "imgbus/log.hpp"
#include "progress.hpp"
#include "scrape.hpp"

namespace imgbus::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSaferMaxConcurrency = 2;
constexpr double kSaferMinDelaySeconds = 0.5;
constexpr long kMaxRequestsPerBench = 20'000;
constexpr auto kMetricsSettleTime = std::chrono::seconds(3);

Error invalid_option(const std::string& flag, const std::string& value, const std::string& fix) {
    return Error{std::make_error_code(std::errc::invalid_argument),
                 "invalid " + flag + " " + value + ": " + fix};
}

std::string join(const std::vector<int>& values) {
    return fmt::format("{}", fmt::join(values, ","));
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&now, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

Result<void> validate_lists(const BenchOptions& options) {
    if (options.counts.empty() || options.counts.size() > 20) {
        return invalid_option("--counts", join(options.counts), "give 1 to 20 request counts");
    }
    for (int count : options.counts) {
        if (count < 1 || count > 10'000) {
            return invalid_option("--counts", join(options.counts), "each count must be 1..10000");
        }
    }
    if (options.thread_counts.size() > 16) {
        return invalid_option("--threads", join(options.thread_counts), "give at most 16 values");
    }
    for (int threads : options.thread_counts) {
        if (threads < 1 || threads > 1024) {
            return invalid_option("--threads", join(options.thread_counts),
                                  "each thread count must be 1..1024");
        }
    }
    const long per_series = std::accumulate(options.counts.begin(), options.counts.end(), 0L);
    const long series = std::max<long>(1, static_cast<long>(options.thread_counts.size()));
    if (per_series * series > kMaxRequestsPerBench) {
        return invalid_option("--counts", join(options.counts),
                              fmt::format("{} requests in all is over the limit of {}; use "
                                          "smaller counts or fewer thread counts",
                                          per_series * series, kMaxRequestsPerBench));
    }
    return {};
}

// After a step, waits briefly until the frontend has counted the step's finished jobs, because
// the event that ends a job can reach the client before the server observes its metrics.
std::optional<std::vector<Sample>> scrape_after_step(HttpClient& client,
                                                     const std::vector<Sample>& before,
                                                     const LoadSummary& summary,
                                                     const std::string& op) {
    const double finished = summary.succeeded + (summary.failures_by_reason.count("job_failed")
                                                     ? summary.failures_by_reason.at("job_failed")
                                                     : 0);
    const auto deadline = Clock::now() + kMetricsSettleTime;
    while (true) {
        auto after = scrape_metrics(client);
        if (!after || processed_jobs(*after, op) - processed_jobs(before, op) >= finished ||
            Clock::now() >= deadline) {
            return after;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

BenchStep run_step(const BenchOptions& options, HttpClient& scraper, int threads, int count) {
    BenchStep step;
    step.threads = threads;
    step.count = count;
    if (options.safer) {
        wait_for_empty_queue(scraper, options.drain_timeout_seconds);
    }
    const auto before = scrape_metrics(scraper);

    LoadOptions load = options.load;
    load.threads = threads;
    load.count = count;
    auto report = run_load(load);
    if (!report) {
        module_logger("bench")->error("step with {} threads and {} requests did not run: {}",
                                      threads, count, report.error().message);
        return step;
    }
    step.summary = report->summary;
    if (before) {
        if (auto after = scrape_after_step(scraper, *before, step.summary, load.op)) {
            step.server = breakdown_between(*before, *after, load.op);
        }
    }
    return step;
}

// Mean kernel time of each thread count over its steps, weighted by successful jobs, and the
// speed-up against the smallest thread count.
std::vector<SpeedupPoint> compute_speedup(const std::vector<BenchStep>& steps,
                                          std::vector<int> thread_counts) {
    std::sort(thread_counts.begin(), thread_counts.end());
    std::vector<SpeedupPoint> points;
    for (int threads : thread_counts) {
        double weighted = 0;
        double jobs = 0;
        for (const auto& step : steps) {
            if (step.threads == threads) {
                weighted += step.summary.kernel_ms_avg * step.summary.succeeded;
                jobs += step.summary.succeeded;
            }
        }
        points.push_back(SpeedupPoint{threads, jobs > 0 ? weighted / jobs : 0, 0});
    }
    if (!points.empty() && points.front().kernel_ms_avg > 0) {
        for (auto& point : points) {
            point.speedup =
                point.kernel_ms_avg > 0 ? points.front().kernel_ms_avg / point.kernel_ms_avg : 0;
        }
    }
    return points;
}

BenchReport start_report(const BenchOptions& options) {
    BenchReport report;
    report.generated_at = utc_now();
    report.url = options.load.url;
    report.image_path = options.load.image_path;
    report.concurrency = options.load.concurrency;
    report.delay_seconds = options.load.delay_seconds;
    report.passes = options.load.passes;
    report.op = options.load.op;
    report.safer = options.safer;
    report.counts = options.counts;
    report.thread_sweep = !options.thread_counts.empty();
    report.thread_counts =
        report.thread_sweep ? options.thread_counts : std::vector<int>{options.load.threads};
    return report;
}

}  // namespace

Result<BenchOptions> prepare(BenchOptions options, bool output_given) {
    if (options.safer) {
        options.load.concurrency = std::min(options.load.concurrency, kSaferMaxConcurrency);
        options.load.delay_seconds = std::max(options.load.delay_seconds, kSaferMinDelaySeconds);
        if (!output_given) {
            options.output = "benchmark_safe.png";
        }
    }
    if (!(options.drain_timeout_seconds > 0 && options.drain_timeout_seconds <= 3600)) {
        return invalid_option("--drain-timeout", fmt::format("{}", options.drain_timeout_seconds),
                              "use more than 0 and at most 3600 seconds");
    }
    if (options.output.empty()) {
        return invalid_option("--output", "''", "name a .png file");
    }
    if (auto lists = validate_lists(options); !lists) {
        return lists.error();
    }
    // Each step logs its own summary line, so per-request lines would only repeat it.
    if (options.load.progress == ProgressMode::automatic &&
        resolve_progress_mode(ProgressMode::automatic, stderr) == ProgressMode::lines) {
        options.load.progress = ProgressMode::none;
    }
    LoadOptions probe = options.load;
    probe.count = 1;
    if (auto load = validate(probe); !load) {
        return load.error();
    }
    // Every run ends with the PNG, so a missing cairo fails here, before the first step.
    if (auto cairo = load_cairo(); !cairo) {
        return cairo.error();
    }
    return options;
}

Result<BenchReport> run_bench(const BenchOptions& options) {
    auto url = parse_server_url(options.load.url);
    if (!url) {
        return url.error();
    }
    auto log = module_logger("bench");
    HttpClient scraper(*url);
    BenchReport report = start_report(options);
    const std::size_t total_steps = report.thread_counts.size() * options.counts.size();
    for (int threads : report.thread_counts) {
        for (int count : options.counts) {
            log->info("step {}/{}: {} requests, {} thread(s) per job, concurrency {}",
                      report.steps.size() + 1, total_steps, count, threads,
                      options.load.concurrency);
            report.steps.push_back(run_step(options, scraper, threads, count));
            const auto& summary = report.steps.back().summary;
            log->info("step {}/{}: {} of {} succeeded, avg {:.1f} ms, p95 {:.1f} ms, {:.2f} jobs/s",
                      report.steps.size(), total_steps, summary.succeeded, summary.sent,
                      summary.latency.avg * 1e3, summary.latency.p95 * 1e3,
                      summary.throughput_jobs_per_second);
        }
    }
    if (report.thread_sweep) {
        report.speedup = compute_speedup(report.steps, report.thread_counts);
    }
    return report;
}

}  // namespace imgbus::bench
