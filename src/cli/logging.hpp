// SPDX-License-Identifier: MIT
#pragma once

#include <prometheus/counter.h>

#include <string>
#include <vector>

namespace imgbus::cli {

inline const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};

// Sends every logger to stderr with a timestamp, the module name and the level.
void setup_logging(const std::string& level);

// Counts log lines that a sink failed to write, instead of printing each failure.
void attach_log_error_counter(prometheus::Counter& counter);

}  // namespace imgbus::cli
