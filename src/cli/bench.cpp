// SPDX-License-Identifier: MIT
// `imgbus bench IMAGE`: a load step per request count (and per thread count with --threads),
// the server-side breakdown from /metrics, and the PNG, JSON and CSV report.
#include "imgbus/bench/bench.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.hpp"
#include "load_flags.hpp"
#include "logging.hpp"

namespace imgbus::cli {
namespace {

[[noreturn]] void fail(const std::string& message) {
    spdlog::error("{}", message);
    spdlog::shutdown();
    throw CLI::RuntimeError(1);
}

void print_steps(const bench::BenchReport& report) {
    std::cout << fmt::format("{:>7} {:>6} {:>6} {:>9} {:>9} {:>9} {:>8} {:>10} {:>10} {:>10}\n",
                             "threads", "count", "ok", "avg ms", "p95 ms", "jobs/s", "kernel",
                             "queue ms", "process ms", "total ms");
    for (const auto& step : report.steps) {
        const auto& s = step.summary;
        std::cout << fmt::format(
            "{:>7} {:>6} {:>6} {:>9.1f} {:>9.1f} {:>9.2f} {:>8.2f} {:>10.1f} {:>10.2f} {:>10.1f}\n",
            step.threads, step.count, s.succeeded, s.latency.avg * 1e3, s.latency.p95 * 1e3,
            s.throughput_jobs_per_second, s.kernel_ms_avg, step.server.queue_wait_ms_avg,
            step.server.process_ms_avg, step.server.total_ms_avg);
    }
    for (const auto& point : report.speedup) {
        std::cout << fmt::format("speed-up with {} threads: {:.2f}x (kernel {:.2f} ms)\n",
                                 point.threads, point.speedup, point.kernel_ms_avg);
    }
}

void run_bench_command(const bench::BenchOptions& given, bool output_given) {
    setup_logging(given.load.debug ? "debug" : "info");
    auto options = bench::prepare(given, output_given);
    if (!options) {
        fail(options.error().message);
    }
    auto report = bench::run_bench(*options);
    if (!report) {
        fail(report.error().message);
    }
    print_steps(*report);

    auto written = bench::write_bench_outputs(*report, options->output);
    if (!written) {
        fail(written.error().message);
    }
    for (const auto& path : *written) {
        std::cout << "wrote " << path << "\n";
    }

    if (options->publish) {
        if (auto published = bench::publish_report(*report, options->load.url); !published) {
            spdlog::warn("the web UI will not show this run: {}", published.error().message);
        }
    }

    int succeeded = 0;
    for (const auto& step : report->steps) {
        succeeded += step.summary.succeeded;
    }
    if (succeeded == 0) {
        fail("no request of any step succeeded; check the server with `imgbus load --debug`");
    }
    spdlog::shutdown();
}

}  // namespace

void register_bench(CLI::App& app) {
    auto options = std::make_shared<bench::BenchOptions>();
    auto* bench = app.add_subcommand(
        "bench",
        "Run load steps of growing size against a server and plot latency, throughput, "
        "the /metrics breakdown and thread scaling");
    // A thread sweep measures the OpenMP kernel, which only the whole-image path runs.
    options->load.path = "whole-image";
    add_shared_load_flags(*bench, options->load);
    bench->add_option("--counts", options->counts, "requests in each step, as a comma list")
        ->delimiter(',')
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    bench
        ->add_option("--threads", options->thread_counts,
                     "thread sweep: OpenMP threads per job as a comma list such as 1,2,4,6; each "
                     "is a series, and a fifth panel shows the kernel speed-up")
        ->delimiter(',')
        ->check(CLI::Range(1, 1024));
    auto* output = bench
                       ->add_option("--output", options->output,
                                    "PNG to write; the .json and .csv go beside it")
                       ->capture_default_str();
    bench->add_flag("--safer", options->safer,
                    "conservative run: concurrency at most 2, at least 0.5 s between requests, "
                    "an empty job queue before each step; output benchmark_safe.png");
    bench
        ->add_option("--drain-timeout", options->drain_timeout_seconds,
                     "with --safer, seconds to wait for the job queue to empty before a step")
        ->capture_default_str();
    bench->add_flag("!--no-publish", options->publish,
                    "do not send the results to the server's /api/benchmarks/latest");
    bench->callback([options, output] { run_bench_command(*options, output->count() > 0); });
}

}  // namespace imgbus::cli
