// SPDX-License-Identifier: MIT
#include "follow.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "imgbus/log.hpp"

namespace imgbus::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Applies one job JSON to the outcome; returns true when it is this job's final status.
bool apply_job_json(const std::string& text, const std::string& job_id, FollowOutcome& outcome) {
    const auto job = json::parse(text, nullptr, false);
    if (!job.is_object() || job.value("id", "") != job_id) {
        return false;
    }
    outcome.status = job.value("status", "");
    if (!is_final_status(outcome.status)) {
        return false;
    }
    outcome.finished_at = Clock::now();
    outcome.error = job.value("error", "");
    outcome.timings = parse_timings(text);
    return true;
}

// Returns true when GET /api/jobs/{id} shows the job's final status.
bool check_once(HttpClient& client, const std::string& job_id, Deadline deadline,
                FollowOutcome& outcome) {
    auto response = client.get("/api/jobs/" + job_id, deadline);
    return response && response->status == 200 && apply_job_json(response->body, job_id, outcome);
}

// Returns true when the job reached a final status through the event stream.
bool follow_events(HttpClient& client, const std::string& batch_id, const std::string& job_id,
                   Deadline deadline, FollowOutcome& outcome) {
    auto log = module_logger("bench");
    EventStream stream(client.url());
    if (auto opened = stream.open("/api/events?batch=" + batch_id, deadline); !opened) {
        log->debug("job {}: no event stream ({}); polling instead", job_id, opened.error().message);
        return false;
    }
    outcome.followed_by = "events";
    // A server that does not replay the batch's state on connect would never send an event for
    // a job that ended before the subscription, so look once at the job after subscribing.
    if (check_once(client, job_id, deadline, outcome)) {
        return true;
    }
    while (true) {
        auto event = stream.next(deadline);
        if (!event) {
            log->debug("job {}: {}; polling instead", job_id, event.error().message);
            return false;
        }
        if (event->event == "job" && apply_job_json(event->data, job_id, outcome)) {
            return true;
        }
    }
}

void follow_by_polling(HttpClient& client, const std::string& job_id, Deadline deadline,
                       FollowOutcome& outcome) {
    if (Clock::now() < deadline) {
        outcome.followed_by = "polling";
    }
    auto interval = std::chrono::milliseconds(20);
    while (Clock::now() < deadline) {
        auto response = client.get("/api/jobs/" + job_id, deadline);
        if (!response) {
            outcome.problem = response.error().message;
        } else if (response->status != 200) {
            outcome.problem = "GET /api/jobs/" + job_id + " returned " +
                              std::to_string(response->status) + ": " +
                              response->body.substr(0, 200);
        } else if (apply_job_json(response->body, job_id, outcome)) {
            outcome.problem.clear();
            return;
        }
        std::this_thread::sleep_until(
            std::min<Clock::time_point>(deadline, Clock::now() + interval));
        interval = std::min(interval * 2, std::chrono::milliseconds(250));
    }
    if (outcome.problem.empty()) {
        outcome.problem = "the job was still " + outcome.status + " at the timeout";
    }
}

}  // namespace

bool is_final_status(const std::string& status) { return status == "done" || status == "failed"; }

std::optional<ServerTimings> parse_timings(const std::string& job_json) {
    const auto job = json::parse(job_json, nullptr, false);
    if (!job.is_object() || !job.contains("timings") || !job["timings"].is_object()) {
        return std::nullopt;
    }
    const auto& timings = job["timings"];
    auto number = [&timings](const char* name) {
        const auto found = timings.find(name);
        return found != timings.end() && found->is_number() ? found->get<double>() : 0.0;
    };
    return ServerTimings{number("queue_wait_ms"), number("kernel_ms"), number("process_ms"),
                         number("total_ms")};
}

FollowOutcome follow_job(HttpClient& client, const std::string& batch_id, const std::string& job_id,
                         Deadline deadline, bool use_events) {
    FollowOutcome outcome;
    outcome.status = "queued";
    if (use_events && follow_events(client, batch_id, job_id, deadline, outcome)) {
        return outcome;
    }
    follow_by_polling(client, job_id, deadline, outcome);
    return outcome;
}

}  // namespace imgbus::bench
