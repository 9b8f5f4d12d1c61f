// SPDX-License-Identifier: MIT
// run_load: the worker threads of `imgbus load`, each with its own keep-alive connection,
// uploading, retrying and following jobs to completion.
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "follow.hpp"
#include "http_client.hpp"
#include "imgbus/bench/load.hpp"
#include "imgbus/log.hpp"
#include "progress.hpp"
#include "retry.hpp"
#include "upload.hpp"

namespace imgbus::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace beast_http = boost::beast::http;

struct RunContext {
    const LoadOptions& options;
    ServerUrl url;
    UploadBody upload;
    BackoffPolicy backoff;
    Clock::time_point started;
    Progress& progress;
};

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

std::chrono::duration<double> as_duration(double seconds) {
    return std::chrono::duration<double>(seconds);
}

double random_jitter() {
    thread_local std::mt19937 generator{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 0.25)(generator);
}

// The server's JSON error message, or the start of the body when it is not JSON.
std::string server_message(const HttpResponse& response) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
        return body["message"].get<std::string>();
    }
    return response.body.substr(0, 200);
}

// Records why one upload attempt was not accepted and returns the server's Retry-After.
std::optional<double> note_rejection(const Result<HttpResponse>& response, RequestResult& result) {
    if (!response) {
        const bool timed_out = response.error().code == std::errc::timed_out;
        result.reason = timed_out ? "timeout" : "connection";
        result.message = response.error().message;
        return std::nullopt;
    }
    result.http_status = response->status;
    result.reason = "http_" + std::to_string(response->status);
    result.message = "POST /api/jobs returned " + std::to_string(response->status) + ": " +
                     server_message(*response);
    return parse_retry_after(response->header("retry-after"), std::chrono::system_clock::now());
}

bool is_retryable(const Result<HttpResponse>& response) {
    return !response || is_retryable_status(response->status);
}

// Uploads until accepted, for at most 1 + retries attempts and never past the deadline.
std::optional<HttpResponse> upload_with_retries(RunContext& run, HttpClient& client,
                                                Deadline deadline, RequestResult& result,
                                                Clock::time_point& sent_at) {
    auto log = module_logger("bench");
    for (int attempt = 1;; ++attempt) {
        result.attempts = attempt;
        sent_at = Clock::now();
        auto response = client.request(beast_http::verb::post, "/api/jobs", run.upload.bytes,
                                       run.upload.content_type, deadline);
        if (response && response->status == 202) {
            result.http_status = 202;
            result.upload_seconds = seconds_between(sent_at, Clock::now());
            return std::move(*response);
        }
        const auto retry_after = note_rejection(response, result);
        if (!is_retryable(response) || attempt > run.options.retries) {
            return std::nullopt;
        }
        const double wait = backoff_seconds(run.backoff, attempt, retry_after, random_jitter());
        if (Clock::now() + as_duration(wait) >= deadline) {
            result.message += "; no time for another attempt within --timeout";
            return std::nullopt;
        }
        log->debug("request {}: attempt {} rejected ({}); retrying in {:.2f} s", result.index,
                   attempt, result.message, wait);
        std::this_thread::sleep_for(as_duration(wait));
        result.retry_wait_seconds += wait;
    }
}

// Reads the batch and job ids of a 202 response.
bool read_accepted(const HttpResponse& response, RequestResult& result) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("jobs") || !body["jobs"].is_array() ||
        body["jobs"].empty() || !body["jobs"][0].is_object()) {
        result.reason = "protocol";
        result.message = "the 202 response has no jobs list: " + response.body.substr(0, 200);
        return false;
    }
    result.batch_id = body.value("batch", "");
    result.job_id = body["jobs"][0].value("id", "");
    result.job_status = body["jobs"][0].value("status", "queued");
    if (result.batch_id.empty() || result.job_id.empty()) {
        result.reason = "protocol";
        result.message =
            "the 202 response lacks a batch or job id: " + response.body.substr(0, 200);
        return false;
    }
    return true;
}

void apply_outcome(const FollowOutcome& outcome, Clock::time_point sent_at, RequestResult& result) {
    result.job_status = outcome.status;
    result.followed_by = outcome.followed_by;
    result.server = outcome.timings;
    if (outcome.status == "done") {
        result.ok = true;
        result.reason.clear();
        result.message.clear();
        result.latency_seconds = seconds_between(sent_at, outcome.finished_at);
    } else if (outcome.status == "failed") {
        result.reason = "job_failed";
        result.message = outcome.error;
        result.latency_seconds = seconds_between(sent_at, outcome.finished_at);
    } else {
        result.reason = "timeout";
        result.message = outcome.problem;
    }
}

void log_request(const RequestResult& result) {
    auto log = module_logger("bench");
    if (!result.ok) {
        log->debug("request {}: failed ({}) after {} attempt(s): {}", result.index, result.reason,
                   result.attempts, result.message);
        return;
    }
    const ServerTimings timings = result.server.value_or(ServerTimings{});
    log->debug(
        "request {}: batch {} job {} accepted in {:.1f} ms after {} attempt(s); done via {} in "
        "{:.1f} ms (server total {:.1f} ms, queue wait {:.1f} ms, kernel {:.1f} ms)",
        result.index, result.batch_id, result.job_id, result.upload_seconds * 1e3, result.attempts,
        result.followed_by, result.latency_seconds * 1e3, timings.total_ms, timings.queue_wait_ms,
        timings.kernel_ms);
}

RequestResult run_request(RunContext& run, HttpClient& client, int index) {
    RequestResult result;
    result.index = index;
    const auto started = Clock::now();
    result.started_at_seconds = seconds_between(run.started, started);
    const Deadline deadline = started + std::chrono::duration_cast<Clock::duration>(
                                            as_duration(run.options.timeout_seconds));

    Clock::time_point sent_at;
    auto accepted = upload_with_retries(run, client, deadline, result, sent_at);
    if (!accepted || !read_accepted(*accepted, result)) {
        return result;
    }
    const auto outcome =
        follow_job(client, result.batch_id, result.job_id, deadline, run.options.use_events);
    apply_outcome(outcome, sent_at, result);
    return result;
}

// Each worker takes the next request index; request i starts no earlier than i * delay.
void run_worker(RunContext& run, std::atomic<int>& next_index, std::vector<RequestResult>& out) {
    HttpClient client(run.url);
    while (true) {
        const int index = next_index.fetch_add(1);
        if (index >= run.options.count) {
            return;
        }
        std::this_thread::sleep_until(run.started +
                                      std::chrono::duration_cast<Clock::duration>(
                                          as_duration(run.options.delay_seconds * index)));
        out[index] = run_request(run, client, index);
        log_request(out[index]);
        run.progress.record(out[index]);
    }
}

}  // namespace

Result<LoadReport> run_load(const LoadOptions& options) {
    if (auto valid = validate(options); !valid) {
        return valid.error();
    }
    auto url = parse_server_url(options.url);
    if (!url) {
        return url.error();
    }
    auto image = read_image_file(options.image_path);
    if (!image) {
        return image.error();
    }
    const auto filename = std::filesystem::path(options.image_path).filename().string();
    const auto mode = options.debug && options.progress == ProgressMode::automatic
                          ? ProgressMode::lines
                          : options.progress;
    Progress progress(options.count, mode);
    RunContext run{options,         *url,         make_upload_body(*image, filename, options),
                   BackoffPolicy{}, Clock::now(), progress};

    LoadReport report;
    report.options = options;
    report.requests.resize(options.count);
    std::atomic<int> next_index{0};
    {
        std::vector<std::jthread> workers;
        for (int i = 0; i < std::min(options.concurrency, options.count); ++i) {
            workers.emplace_back([&] { run_worker(run, next_index, report.requests); });
        }
    }
    progress.finish();
    report.summary = summarize(report.requests, seconds_between(run.started, Clock::now()));
    return report;
}

}  // namespace imgbus::bench
