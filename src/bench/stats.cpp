// SPDX-License-Identifier: MIT
#include "stats.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace imgbus::bench {

double percentile(const std::vector<double>& sorted, double q) {
    assert(std::is_sorted(sorted.begin(), sorted.end()));
    if (sorted.empty()) {
        return 0;
    }
    const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(rank));
    const auto upper = std::min(lower + 1, sorted.size() - 1);
    const double fraction = rank - static_cast<double>(lower);
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

LatencySummary summarize_latencies(std::vector<double> values) {
    LatencySummary summary;
    if (values.empty()) {
        return summary;
    }
    std::sort(values.begin(), values.end());
    summary.count = values.size();
    summary.min = values.front();
    summary.max = values.back();
    summary.avg =
        std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    summary.p50 = percentile(values, 0.50);
    summary.p95 = percentile(values, 0.95);
    summary.p99 = percentile(values, 0.99);
    return summary;
}

}  // namespace imgbus::bench
