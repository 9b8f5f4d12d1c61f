// SPDX-License-Identifier: MIT
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "imgbus/bench/bench.hpp"

namespace imgbus::bench {

// The report as the JSON document that `imgbus bench` writes, PUTs to the server and the web
// page reads: settings, one entry per step and the speed-up. Times in milliseconds.
nlohmann::json bench_json(const BenchReport& report);

// One CSV row per step (RFC 4180, header first), with the same numbers as the JSON.
std::string bench_csv(const BenchReport& report);

// The path with its extension replaced ("out/benchmark.png" -> "out/benchmark.json").
std::string sibling_path(const std::string& png_path, const std::string& extension);

}  // namespace imgbus::bench
