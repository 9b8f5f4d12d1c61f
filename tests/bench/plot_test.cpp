// SPDX-License-Identifier: MIT
#include "plot.hpp"

#include <cairo.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "chart.hpp"

using namespace imgbus::bench;

namespace {

BenchReport report_with(bool sweep) {
    BenchReport report;
    report.generated_at = "2026-01-02T03:04:05Z";
    report.url = "http://127.0.0.1:8080";
    report.image_path = "test.jpg";
    report.op = "grayscale";
    report.counts = {1, 5, 10, 20};
    report.thread_sweep = sweep;
    report.thread_counts = sweep ? std::vector<int>{1, 2, 4} : std::vector<int>{1};
    for (int threads : report.thread_counts) {
        for (int count : report.counts) {
            BenchStep step;
            step.threads = threads;
            step.count = count;
            step.summary.sent = count;
            step.summary.succeeded = count;
            step.summary.latency.avg = 0.02 + 0.004 * count / threads;
            step.summary.latency.p95 = 0.03 + 0.006 * count / threads;
            step.summary.throughput_jobs_per_second = 20.0 + count;
            step.summary.kernel_ms_avg = 8.0 / threads;
            step.server = {true,          double(count),      2.0 * count,
                           8.0 / threads, 20.0 + 4.0 * count, double(count),
                           double(count), double(count)};
            report.steps.push_back(step);
        }
    }
    if (sweep) {
        report.speedup = {{1, 8.0, 1.0}, {2, 4.4, 1.82}, {4, 2.6, 3.08}};
    }
    return report;
}

struct Image {
    cairo_surface_t* surface = nullptr;
    ~Image() { cairo_surface_destroy(surface); }
};

// Share of pixels in the rectangle that are not near-white, and how many distinct colours it has.
std::pair<double, std::size_t> ink_in(cairo_surface_t* surface, int x0, int y0, int width,
                                      int height) {
    const unsigned char* data = cairo_image_surface_get_data(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    std::size_t inked = 0;
    std::set<std::uint32_t> colours;
    for (int y = y0; y < y0 + height; ++y) {
        const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
        for (int x = x0; x < x0 + width; ++x) {
            const std::uint32_t pixel = row[x] & 0xffffff;
            const int r = (pixel >> 16) & 0xff, g = (pixel >> 8) & 0xff, b = pixel & 0xff;
            if (r < 240 || g < 240 || b < 240) {
                ++inked;
            }
            colours.insert(pixel);
        }
    }
    return {static_cast<double>(inked) / (double(width) * height), colours.size()};
}

void check_panel_drawn(cairo_surface_t* surface, int x, int y, int width, int height) {
    INFO("panel at " << x << "," << y);
    const auto [ink, colours] = ink_in(surface, x, y, width, height);
    CHECK(ink > 0.01);
    CHECK(ink < 0.6);
    CHECK(colours > 8);
}

std::string temp_png(const char* name) {
    return (std::filesystem::temp_directory_path() / name).string();
}

}  // namespace

TEST_CASE("nice ticks use 1-2-5 steps", "[bench]") {
    CHECK(nice_ticks(10) == std::vector<double>{0, 2, 4, 6, 8, 10});
    CHECK(nice_ticks(7.3) == std::vector<double>{0, 2, 4, 6, 8});
    CHECK(nice_ticks(0.9).back() >= 0.9);
    const auto unit = nice_ticks(0);
    REQUIRE(unit.size() == 6);
    CHECK(unit[1] == Approx(0.2));
    CHECK(unit.back() == Approx(1.0));
    CHECK(nice_ticks(-3).back() == 1.0);
    CHECK(nice_ticks(1234).size() <= 7);
}

TEST_CASE("number labels drop needless digits", "[bench]") {
    CHECK(format_number(1200) == "1200");
    CHECK(format_number(12.5) == "12.5");
    CHECK(format_number(0.25) == "0.25");
    CHECK(format_number(0.5) == "0.5");
    CHECK(format_number(3) == "3");
    CHECK(format_number(0.999) == "1");
}

TEST_CASE("benchmark png has four drawn panels", "[bench]") {
    const auto path = temp_png("imgbus_plot_test_four.png");
    const auto report = report_with(false);
    REQUIRE(render_benchmark_png(report, path).ok());

    Image image{cairo_image_surface_create_from_png(path.c_str())};
    REQUIRE(cairo_surface_status(image.surface) == CAIRO_STATUS_SUCCESS);
    CHECK(cairo_image_surface_get_width(image.surface) == 1600);
    CHECK(cairo_image_surface_get_height(image.surface) == 1000);
    CHECK(benchmark_plot_size(report).height == 1000);
    for (int row = 0; row < 2; ++row) {
        for (int column = 0; column < 2; ++column) {
            check_panel_drawn(image.surface, column * 800 + 10, 80 + row * 460, 780, 450);
        }
    }
    std::filesystem::remove(path);
}

TEST_CASE("thread sweep adds the speed-up panel", "[bench]") {
    const auto path = temp_png("imgbus_plot_test_sweep.png");
    REQUIRE(render_benchmark_png(report_with(true), path).ok());

    Image image{cairo_image_surface_create_from_png(path.c_str())};
    REQUIRE(cairo_surface_status(image.surface) == CAIRO_STATUS_SUCCESS);
    CHECK(cairo_image_surface_get_width(image.surface) == 1600);
    CHECK(cairo_image_surface_get_height(image.surface) == 1460);
    for (int row = 0; row < 2; ++row) {
        for (int column = 0; column < 2; ++column) {
            check_panel_drawn(image.surface, column * 800 + 10, 80 + row * 460, 780, 450);
        }
    }
    check_panel_drawn(image.surface, 10, 80 + 2 * 460, 1580, 450);
    std::filesystem::remove(path);
}

TEST_CASE("empty report still draws axes", "[bench]") {
    const auto path = temp_png("imgbus_plot_test_empty.png");
    auto report = report_with(false);
    report.steps.clear();
    REQUIRE(render_benchmark_png(report, path).ok());
    Image image{cairo_image_surface_create_from_png(path.c_str())};
    REQUIRE(cairo_surface_status(image.surface) == CAIRO_STATUS_SUCCESS);
    const auto [ink, colours] = ink_in(image.surface, 10, 80, 780, 450);
    CHECK(ink > 0.005);
    std::filesystem::remove(path);
}

TEST_CASE("unwritable plot path is an error", "[bench]") {
    auto written = render_benchmark_png(report_with(false), "/nonexistent-dir/plot.png");
    REQUIRE_FALSE(written.ok());
    CHECK_THAT(written.error().message, Catch::Contains("/nonexistent-dir/plot.png"));
}
