// SPDX-License-Identifier: MIT
#pragma once

#include <vector>

#include "imgbus/bench/load.hpp"

namespace imgbus::bench {

// The q-quantile (0 <= q <= 1) of ascending values, interpolating linearly between the two
// nearest ranks (the "type 7" definition that numpy and R use by default). Returns 0 when empty.
double percentile(const std::vector<double>& sorted, double q);

// min, mean, p50, p95, p99 and max of the values, in any order.
LatencySummary summarize_latencies(std::vector<double> values);

}  // namespace imgbus::bench
