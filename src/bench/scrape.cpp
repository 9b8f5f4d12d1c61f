// SPDX-License-Identifier: MIT
#include "scrape.hpp"

#include <nlohmann/json.hpp>
#include <thread>

#include "imgbus/log.hpp"

namespace imgbus::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kScrapeTimeout = std::chrono::seconds(10);
constexpr std::string_view kJobQueue = "imgbus.jobs";

// Messages in the job queue, or nothing when the answer has no such queue.
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

}  // namespace

std::optional<std::vector<Sample>> scrape_metrics(HttpClient& client) {
    auto log = module_logger("bench");
    auto response = client.get("/metrics", Clock::now() + kScrapeTimeout);
    if (!response) {
        log->warn("cannot scrape /metrics: {}", response.error().message);
        return std::nullopt;
    }
    if (response->status != 200) {
        log->warn("GET /metrics answered {}; the server-side breakdown stays empty",
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
    return sum_samples(samples, "frontend_processed_total", {{"op", op}});
}

ServerBreakdown breakdown_between(const std::vector<Sample>& before,
                                  const std::vector<Sample>& after, const std::string& op) {
    const std::map<std::string, std::string> by_op = {{"op", op}};
    const auto wait_before = histogram_totals(before, "grayscale_queue_wait_seconds");
    const auto wait_after = histogram_totals(after, "grayscale_queue_wait_seconds");
    const auto process_before = histogram_totals(before, "grayscale_process_seconds");
    const auto process_after = histogram_totals(after, "grayscale_process_seconds");
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
        auto response =
            client.get("/api/queues", std::min(deadline, Clock::now() + kScrapeTimeout));
        const auto messages =
            response && response->status == 200 ? job_queue_messages(*response) : std::nullopt;
        if (!messages) {
            log->warn("cannot read the depth of {} from GET /api/queues; not waiting for it",
                      kJobQueue);
            return false;
        }
        if (*messages == 0) {
            return true;
        }
        if (Clock::now() >= deadline) {
            log->warn("{} still holds {} messages after {} s; going on", kJobQueue, *messages,
                      timeout_seconds);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

}  // namespace imgbus::bench
