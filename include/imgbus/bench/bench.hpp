// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "imgbus/bench/load.hpp"
#include "imgbus/result.hpp"

namespace imgbus::bench {

// A benchmark: one load step per (thread count, request count), with a /metrics scrape before
// and after each step. `load` supplies the URL, image, concurrency, delay and job parameters;
// its count and threads are replaced by each step's.
struct BenchOptions {
    LoadOptions load;
    std::vector<int> counts = {1, 5, 10, 20};
    std::vector<int> thread_counts;  // empty: one series at load.threads
    bool safer = false;  // concurrency at most 2, a delay, and a drained queue between steps
    std::string output = "benchmark.png";  // the JSON and CSV go beside it
    double drain_timeout_seconds = 120;    // max wait for an empty job queue between steps
    bool publish = true;                   // PUT the JSON to /api/benchmarks/latest
};

// Averages from the server's histograms over one step (deltas of _sum / _count), milliseconds.
struct ServerBreakdown {
    bool scraped = false;  // false when /metrics could not be read or parsed
    double processed = 0;  // frontend_processed_total delta
    double queue_wait_ms_avg = 0;
    double process_ms_avg = 0;
    double total_ms_avg = 0;
    double queue_wait_count = 0;
    double process_count = 0;
    double total_count = 0;
};

struct BenchStep {
    int threads = 1;
    int count = 0;
    LoadSummary summary;
    ServerBreakdown server;
};

// The kernel time of one thread count over all its steps, and the speed-up against the
// smallest thread count of the sweep.
struct SpeedupPoint {
    int threads = 1;
    double kernel_ms_avg = 0;
    double speedup = 0;
};

struct BenchReport {
    std::string generated_at;  // UTC, ISO 8601
    std::string url;
    std::string image_path;
    int concurrency = 1;
    double delay_seconds = 0;
    int passes = 1;
    std::string op;
    bool safer = false;
    std::vector<int> counts;
    std::vector<int> thread_counts;  // one entry per series
    bool thread_sweep = false;       // true when --threads was given
    std::vector<BenchStep> steps;
    std::vector<SpeedupPoint> speedup;  // filled for a thread sweep
};

// Applies --safer to the options and checks them.
Result<BenchOptions> prepare(BenchOptions options, bool output_given);

// Runs every step in order and builds the report. Fails when the run cannot start.
Result<BenchReport> run_bench(const BenchOptions& options);

// Writes the PNG, and the JSON and CSV beside it (same name, other extension).
Result<std::vector<std::string>> write_bench_outputs(const BenchReport& report,
                                                     const std::string& png_path);

// Sends the JSON to the server's /api/benchmarks/latest so that the web UI can show it.
Result<void> publish_report(const BenchReport& report, const std::string& url);

}  // namespace imgbus::bench
