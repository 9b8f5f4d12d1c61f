// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::bench {

// Progress display of `imgbus load`: a bar redrawn on a terminal, plain lines otherwise.
enum class ProgressMode { automatic, bar, lines, none };

// One load run: `count` uploads of the same image, at most `concurrency` in flight, each followed
// to its final event. Every request is bounded by `timeout_seconds`, retries included.
struct LoadOptions {
    std::string url = "http://127.0.0.1:8080";
    std::string image_path;
    int count = 10;
    int concurrency = 1;
    double delay_seconds = 0;  // between the starts of two requests
    double timeout_seconds = 60;
    int retries = 3;  // further attempts of an upload rejected with 429, 502, 503 or 504
    int threads = 1;  // OpenMP threads of each job
    int passes = 1;
    std::string op = "grayscale";
    // Sent as the job's path field: auto, stream or whole-image. `imgbus bench` sends
    // whole-image, because it measures how the OpenMP kernel scales with threads.
    std::string path = "auto";
    bool debug = false;          // log each request's details
    bool use_events = true;      // follow jobs through /api/events; false polls /api/jobs/{id}
    double min_success = 100.0;  // percent; used by the command's exit status
    ProgressMode progress = ProgressMode::automatic;
};

// Timings the server reported in the job's JSON, in milliseconds.
struct ServerTimings {
    double queue_wait_ms = 0;
    double kernel_ms = 0;
    double process_ms = 0;
    double total_ms = 0;
};

// The outcome of one request. Times are seconds; `latency_seconds` runs from sending the upload
// that was accepted to receiving the job's final status.
struct RequestResult {
    int index = 0;
    bool ok = false;
    std::string reason;   // empty when ok, else http_<status>, connection, timeout, job_failed
    std::string message;  // what went wrong, from the client or the server
    int http_status = 0;  // of the last upload attempt, 0 when no response arrived
    int attempts = 0;
    double retry_wait_seconds = 0;
    std::string batch_id;
    std::string job_id;
    std::string job_status;         // last status seen: queued, processing, done or failed
    std::string followed_by;        // "events" or "polling"
    double started_at_seconds = 0;  // since the start of the run
    double upload_seconds = 0;      // sending the accepted upload to its 202
    double latency_seconds = 0;
    std::optional<ServerTimings> server;
};

// Latency statistics over successful requests, in seconds; all zero when there are none.
struct LatencySummary {
    std::size_t count = 0;
    double min = 0;
    double avg = 0;
    double p50 = 0;
    double p95 = 0;
    double p99 = 0;
    double max = 0;
};

struct LoadSummary {
    int sent = 0;
    int succeeded = 0;
    int failed = 0;
    std::map<std::string, int> failures_by_reason;
    double success_percent = 0;
    int retries = 0;  // upload attempts after the first, over all requests
    double wall_seconds = 0;
    double throughput_jobs_per_second = 0;  // succeeded / wall_seconds
    LatencySummary latency;                 // client side
    LatencySummary server_total;            // the server's timings.total_ms, in seconds
    double kernel_ms_avg = 0;               // mean timings.kernel_ms of the successful jobs
};

struct LoadReport {
    LoadOptions options;
    std::vector<RequestResult> requests;
    LoadSummary summary;
};

// Checks the options and names the value at fault and the accepted range.
Result<void> validate(const LoadOptions& options);

// Runs the load and follows every job to completion. Fails only when the run cannot start (bad
// options, unreadable image, malformed URL); failed requests are part of the report.
Result<LoadReport> run_load(const LoadOptions& options);

// Computes the summary of finished requests that took `wall_seconds` in all.
LoadSummary summarize(const std::vector<RequestResult>& requests, double wall_seconds);

// The summary as the lines `imgbus load` prints.
std::string format_summary(const LoadSummary& summary);

// The report with every request as JSON text, for --json.
std::string report_json(const LoadReport& report);

}  // namespace imgbus::bench
