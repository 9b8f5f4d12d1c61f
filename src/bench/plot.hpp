// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "imgbus/bench/bench.hpp"
#include "imgbus/result.hpp"

namespace imgbus::bench {

constexpr int kPlotWidth = 1600;
constexpr int kPlotHeaderHeight = 80;
constexpr int kPlotRowHeight = 460;

// Pixel size of the benchmark PNG: 1600x1000 with four panels in two rows, 1600x1460 when a
// thread sweep adds the speed-up panel and a third row.
struct PlotSize {
    int width = 0;
    int height = 0;
};

PlotSize benchmark_plot_size(const BenchReport& report);

// Draws the benchmark panels (average latency, p95 latency, throughput, the server-side
// breakdown, and the kernel speed-up for a thread sweep) with cairo and writes them as a PNG.
Result<void> render_benchmark_png(const BenchReport& report, const std::string& path);

}  // namespace imgbus::bench
