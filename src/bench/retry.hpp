// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace imgbus::bench {

// Seconds to wait from a Retry-After header: delta-seconds ("2") or an HTTP-date ("Sun, 06 Nov
// 1994 08:49:37 GMT") measured from `now`. A date in the past gives 0. Returns nothing when the
// value is neither.
std::optional<double> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now);

// Exponential back-off between upload attempts.
struct BackoffPolicy {
    double initial_seconds = 0.5;
    double max_seconds = 10;  // also the cap on a server's Retry-After
};

// Seconds to wait before retry number `retry` (1 for the first retry). The exponential delay
// initial * 2^(retry-1) is raised to Retry-After when the server sent a longer one and capped
// at max_seconds. Then `jitter` (0 to 0.25) stretches it, so that clients rejected together do
// not return together. The wait is never shorter than Retry-After unless that exceeds the cap.
double backoff_seconds(const BackoffPolicy& policy, int retry, std::optional<double> retry_after,
                       double jitter);

// Whether an upload rejected with this status is worth another attempt.
bool is_retryable_status(int status);

}  // namespace imgbus::bench
