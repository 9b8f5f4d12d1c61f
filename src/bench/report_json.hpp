// SPDX-License-Identifier: MIT
#pragma once

#include <nlohmann/json.hpp>

#include "imgbus/bench/load.hpp"

namespace imgbus::bench {

// Latency statistics in milliseconds, as the load and bench JSON files write them.
nlohmann::json latency_json(const LatencySummary& latency);

// A load summary as JSON, latencies in milliseconds.
nlohmann::json summary_json(const LoadSummary& summary);

}  // namespace imgbus::bench
