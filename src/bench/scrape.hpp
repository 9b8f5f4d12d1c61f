// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "imgbus/bench/bench.hpp"
#include "prometheus_text.hpp"

namespace imgbus::bench {

// Reads and parses GET /metrics; nothing (with a warning logged) when either fails.
std::optional<std::vector<Sample>> scrape_metrics(HttpClient& client);

// The server-side averages of one step from the scrapes before and after it, for the series of
// the op label that `op` maps to.
// NOTE: /metrics is server-wide, so jobs of other clients during a step count in these averages.
ServerBreakdown breakdown_between(const std::vector<Sample>& before,
                                  const std::vector<Sample>& after, const std::string& op);

// Jobs of `op` whose final event the frontend has counted.
double processed_jobs(const std::vector<Sample>& samples, const std::string& op);

// Waits until the job queue (imgbus.jobs in /api/ui/queues or /api/queues) contains no message, for
// at most timeout_seconds. Returns false on a timeout or when the server has no queue API.
bool wait_for_empty_queue(HttpClient& client, double timeout_seconds);

}  // namespace imgbus::bench
