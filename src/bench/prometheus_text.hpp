// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::bench {

// One sample line of the Prometheus text exposition format 0.0.4.
struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// Parses a /metrics body. Comments and blank lines are skipped; a malformed sample line fails
// with its line number.
Result<std::vector<Sample>> parse_prometheus_text(std::string_view text);

// Sum of the values of every sample named `name` whose labels include all of `match`.
double sum_samples(const std::vector<Sample>& samples, std::string_view name,
                   const std::map<std::string, std::string>& match = {});

// The _sum and _count of a histogram family, added over its series that match.
struct HistogramTotals {
    double sum = 0;
    double count = 0;
};

HistogramTotals histogram_totals(const std::vector<Sample>& samples, std::string_view family,
                                 const std::map<std::string, std::string>& match = {});

// The mean of the observations made between two scrapes, in the histogram's unit; 0 when none.
double mean_between(const HistogramTotals& before, const HistogramTotals& after);

}  // namespace imgbus::bench
