// SPDX-License-Identifier: MIT
#include "plot.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "chart.hpp"

namespace imgbus::bench {
namespace {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&::cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&::cairo_destroy)>;

constexpr Color kIdealColor{0.55, 0.55, 0.55};

std::string series_name(int threads) {
    return fmt::format("{} thread{} per job", threads, threads == 1 ? "" : "s");
}

std::vector<double> count_ticks(const BenchReport& report) {
    return std::vector<double>(report.counts.begin(), report.counts.end());
}

// One line per thread count through the value that `pick` takes from each step.
template <class Pick>
LineChart per_count_chart(const BenchReport& report, std::string title, std::string y_label,
                          Pick pick, bool skip_without_successes) {
    LineChart chart{
        std::move(title), "requests in the step", std::move(y_label), count_ticks(report), {}};
    for (std::size_t i = 0; i < report.thread_counts.size(); ++i) {
        Series series{series_name(report.thread_counts[i]), {}, palette_color(i)};
        for (const auto& step : report.steps) {
            if (step.threads != report.thread_counts[i] ||
                (skip_without_successes && step.summary.succeeded == 0)) {
                continue;
            }
            series.points.emplace_back(step.count, pick(step));
        }
        chart.series.push_back(std::move(series));
    }
    return chart;
}

BarChart breakdown_chart(const BenchReport& report) {
    BarChart chart{
        "Server-side breakdown per step (/metrics deltas)",
        "step: requests (n)" + std::string(report.thread_sweep ? " and threads per job" : ""),
        "mean per job (ms)",
        {"queue wait", "processing (kernel)", "total (upload to done)"},
        {palette_color(4), palette_color(2), palette_color(5)},
        {}};
    for (const auto& step : report.steps) {
        BarGroup group;
        group.label_lines.push_back(fmt::format("n={}", step.count));
        if (report.thread_sweep) {
            group.label_lines.push_back(fmt::format("{} thr", step.threads));
        }
        if (!step.server.scraped) {
            group.label_lines.push_back("no scrape");
        }
        group.values = {step.server.queue_wait_ms_avg, step.server.process_ms_avg,
                        step.server.total_ms_avg};
        chart.groups.push_back(std::move(group));
    }
    return chart;
}

LineChart speedup_chart(const BenchReport& report) {
    const int base = report.speedup.empty() ? 1 : report.speedup.front().threads;
    LineChart chart{
        fmt::format("OpenMP speed-up of the kernel (vs {} thread{})", base, base == 1 ? "" : "s"),
        "OpenMP threads per job",
        "speed-up (x)",
        {},
        {}};
    Series measured{"measured (labels: mean kernel time)", {}, palette_color(0)};
    Series ideal{"ideal (linear)", {}, kIdealColor, true, false};
    for (const auto& point : report.speedup) {
        chart.x_ticks.push_back(point.threads);
        ideal.points.emplace_back(point.threads, static_cast<double>(point.threads) / base);
        if (point.kernel_ms_avg > 0) {
            measured.points.emplace_back(point.threads, point.speedup);
            measured.point_labels.push_back(format_number(point.kernel_ms_avg) + " ms");
        }
    }
    chart.series = {std::move(measured), std::move(ideal)};
    return chart;
}

void draw_header(const Canvas& canvas, const BenchReport& report) {
    const std::string image = std::filesystem::path(report.image_path).filename().string();
    canvas.set_source_rgb(0.1, 0.1, 0.1);
    draw_text(canvas,
              fmt::format("imgbus bench: {} of {}, concurrency {}{}", report.op, image,
                          report.concurrency, report.safer ? " (safer mode)" : ""),
              kPlotWidth / 2.0, 36, 24, 0.5, true);
    canvas.set_source_rgb(0.35, 0.35, 0.35);
    draw_text(canvas,
              fmt::format("server {} | {} | passes {} | delay {} s | latency = upload sent to "
                          "job done, as the client saw it",
                          report.url, report.generated_at, report.passes,
                          format_number(report.delay_seconds)),
              kPlotWidth / 2.0, 64, 14, 0.5);
}

Rect panel(int row, int column, int columns) {
    const double width = static_cast<double>(kPlotWidth) / columns;
    return Rect{width * column + 10, kPlotHeaderHeight + static_cast<double>(kPlotRowHeight) * row,
                width - 20, kPlotRowHeight - 10};
}

void draw_panels(const Canvas& canvas, const BenchReport& report) {
    draw_line_chart(canvas, panel(0, 0, 2),
                    per_count_chart(
                        report, "Average latency", "latency (ms)",
                        [](const BenchStep& s) { return s.summary.latency.avg * 1e3; }, true));
    draw_line_chart(canvas, panel(0, 1, 2),
                    per_count_chart(
                        report, "p95 latency", "latency (ms)",
                        [](const BenchStep& s) { return s.summary.latency.p95 * 1e3; }, true));
    draw_line_chart(
        canvas, panel(1, 0, 2),
        per_count_chart(
            report, "Throughput", "completed jobs per second (req/s)",
            [](const BenchStep& s) { return s.summary.throughput_jobs_per_second; }, false));
    if (report.thread_sweep) {
        draw_line_chart(canvas, panel(1, 1, 2), speedup_chart(report));
        draw_bar_chart(canvas, panel(2, 0, 1), breakdown_chart(report));
    } else {
        draw_bar_chart(canvas, panel(1, 1, 2), breakdown_chart(report));
    }
}

}  // namespace

PlotSize benchmark_plot_size(const BenchReport& report) {
    const int rows = report.thread_sweep ? 3 : 2;
    return PlotSize{kPlotWidth, kPlotHeaderHeight + rows * kPlotRowHeight};
}

Result<void> render_benchmark_png(const BenchReport& report, const std::string& path) {
    const auto loaded = load_cairo();
    if (!loaded) {
        return loaded.error();
    }
    const CairoLibrary& cairo = **loaded;
    const PlotSize size = benchmark_plot_size(report);
    SurfacePtr surface(cairo.image_surface_create(CAIRO_FORMAT_RGB24, size.width, size.height),
                       cairo.surface_destroy);
    ContextPtr cr(cairo.create(surface.get()), cairo.destroy);
    const Canvas canvas(cairo, cr.get());
    canvas.set_source_rgb(1, 1, 1);
    canvas.paint();
    draw_header(canvas, report);
    draw_panels(canvas, report);
    cairo.surface_flush(surface.get());

    if (const auto status = cairo.status(cr.get()); status != CAIRO_STATUS_SUCCESS) {
        return Error{
            std::make_error_code(std::errc::io_error),
            std::string("cannot draw the benchmark plot: ") + cairo.status_to_string(status)};
    }
    if (const auto status = cairo.surface_write_to_png(surface.get(), path.c_str());
        status != CAIRO_STATUS_SUCCESS) {
        return Error{std::make_error_code(std::errc::io_error),
                     "cannot write the plot to " + path + ": " + cairo.status_to_string(status) +
                         "; choose a writable --output path"};
    }
    return {};
}

}  // namespace imgbus::bench
