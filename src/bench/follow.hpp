// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "http_client.hpp"
#include "imgbus/bench/load.hpp"

namespace imgbus::bench {

// The result of following one job.
struct FollowOutcome {
    std::string status;       // last status seen; done or failed when the job finished
    std::string error;        // the job's error message when it failed
    std::string followed_by;  // "events" or "polling"
    std::optional<ServerTimings> timings;
    std::chrono::steady_clock::time_point finished_at;  // when the final status arrived
    std::string problem;  // why following stopped before a final status, such as a timeout
};

// Waits until the job is done or failed, or the deadline passes. Subscribes to
// /api/events?batch=ID (the server replays the batch's current state first, so nothing is
// missed); when events are off, unavailable or the stream ends early, polls /api/jobs/{id} on
// `client` instead.
FollowOutcome follow_job(HttpClient& client, const std::string& batch_id, const std::string& job_id,
                         Deadline deadline, bool use_events);

// True for the statuses after which a job never changes.
bool is_final_status(const std::string& status);

// Reads the timings object of a job's JSON text; nothing when it has none.
std::optional<ServerTimings> parse_timings(const std::string& job_json);

}  // namespace imgbus::bench
