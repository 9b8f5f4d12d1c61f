// SPDX-License-Identifier: MIT
#include "scrape.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "imgbus/log.hpp"

namespace imgbus::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kScrapeTimeout = std::chrono::seconds(10);
constexpr std::string_view kJobQueue = "imgbus.jobs";

// Messages in the job queue, or nothing when the response lists no such queue.
std::optional<double> job_queue_messages(const HttpResponse& response) {
    const auto queues = nlohmann::json::parse(response.body, nullptr, false);
    if (!queues.is_array()) {
        return std::nullopt;
    }
    for (const auto& queue : queues) {
        if (queue.is_object() && queue.value("name", "") == kJobQueue) {
            return queue.value("messages_ready", 0.0) + queue.value("messages_unacknowledged", 0.0);
        }
    }
    return std::nullopt;
}

// The op label the server records for an --op value: the operation's name, or "pipeline" for
// several steps ("resize:width=800,grayscale").
std::string op_label(const std::string& op) {
    if (op.find(',') != std::string::npos) {
        return "pipeline";
    }
    return op.substr(0, op.find(':'));
}

// Histogram totals of the op-labelled family, or of the grayscale_* family on a server that
// predates the op-labelled families.
HistogramTotals worker_totals(const std::vector<Sample>& samples, const std::string& family,
                              const std::map<std::string, std::string>& match,
                              const std::string& grayscale_family) {
    const bool labelled = std::any_of(samples.begin(), samples.end(), [&](const Sample& sample) {
        return sample.name == family + "_count";
    });
    return labelled ? histogram_totals(samples, family, match)
                    : histogram_totals(samples, grayscale_family);
}

// The job queue's depth from the web UI's queue list, which needs no credentials, or from the
// RabbitMQ-style /api/queues of a server without it.
std::optional<double> read_job_queue_depth(HttpClient& client, Clock::time_point deadline) {
    for (const char* path : {"/api/ui/queues", "/api/queues"}) {
        auto response = client.get(path, std::min(deadline, Clock::now() + kScrapeTimeout));
        if (response && response->status == 200) {
            return job_queue_messages(*response);
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::vector<Sample>> scrape_metrics(HttpClient& client) {
    auto log = module_logger("bench");
    auto response = client.get("/metrics", Clock::now() + kScrapeTimeout);
    if (!response) {
        log->warn("cannot scrape /metrics: {}", response.error().message);
        return std::nullopt;
    }
    if (response->status != 200) {
        log->warn("GET /metrics returned {}; the server-side breakdown stays empty",
                  response->status);
        return std::nullopt;
    }
    auto samples = parse_prometheus_text(response->body);
    if (!samples) {
        log->warn("{}", samples.error().message);
        return std::nullopt;
    }
    return std::move(*samples);
}

double processed_jobs(const std::vector<Sample>& samples, const std::string& op) {
    return sum_samples(samples, "frontend_processed_total", {{"op", op_label(op)}});
}

ServerBreakdown breakdown_between(const std::vector<Sample>& before,
                                  const std::vector<Sample>& after, const std::string& op) {
    const std::map<std::string, std::string> by_op = {{"op", op_label(op)}};
    const std::map<std::string, std::string> kernel = {{"op", op_label(op)}, {"stage", "kernel"}};
    const auto wait_before = worker_totals(before, "imgbus_job_queue_wait_seconds", by_op,
                                           "grayscale_queue_wait_seconds");
    const auto wait_after = worker_totals(after, "imgbus_job_queue_wait_seconds", by_op,
                                          "grayscale_queue_wait_seconds");
    const auto process_before =
        worker_totals(before, "imgbus_job_stage_seconds", kernel, "grayscale_process_seconds");
    const auto process_after =
        worker_totals(after, "imgbus_job_stage_seconds", kernel, "grayscale_process_seconds");
    const auto total_before = histogram_totals(before, "frontend_request_seconds", by_op);
    const auto total_after = histogram_totals(after, "frontend_request_seconds", by_op);

    ServerBreakdown breakdown;
    breakdown.scraped = true;
    breakdown.processed = processed_jobs(after, op) - processed_jobs(before, op);
    breakdown.queue_wait_ms_avg = mean_between(wait_before, wait_after) * 1e3;
    breakdown.process_ms_avg = mean_between(process_before, process_after) * 1e3;
    breakdown.total_ms_avg = mean_between(total_before, total_after) * 1e3;
    breakdown.queue_wait_count = wait_after.count - wait_before.count;
    breakdown.process_count = process_after.count - process_before.count;
    breakdown.total_count = total_after.count - total_before.count;
    return breakdown;
}

bool wait_for_empty_queue(HttpClient& client, double timeout_seconds) {
    auto log = module_logger("bench");
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(timeout_seconds));
    while (true) {
        const auto messages = read_job_queue_depth(client, deadline);
        if (!messages) {
            log->warn(
                "cannot read the depth of {} from /api/ui/queues or /api/queues; not "
                "waiting for it",
                kJobQueue);
            return false;
        }
        if (*messages == 0) {
            return true;
        }
        if (Clock::now() >= deadline) {
            log->warn("{} still contains {} messages after {} s; going on", kJobQueue, *messages,
                      timeout_seconds);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

}  // namespace imgbus::bench
