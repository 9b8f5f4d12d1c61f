// SPDX-License-Identifier: MIT
#include "chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace imgbus::bench {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";
constexpr Color kInk{0.15, 0.15, 0.15};
constexpr Color kGrid{0.87, 0.87, 0.87};
constexpr double kTitleSize = 17;
constexpr double kLabelSize = 13;
constexpr double kTickSize = 12;

void set_color(const Canvas& canvas, const Color& color) {
    canvas.set_source_rgb(color.red, color.green, color.blue);
}

// The plot area inside a chart frame: room for the title, the y tick labels and the axis labels.
Rect plot_area(const Rect& frame, double bottom_margin) {
    return Rect{frame.x + 86, frame.y + 48, frame.width - 86 - 28,
                frame.height - 48 - bottom_margin};
}

void draw_frame_labels(const Canvas& canvas, const Rect& frame, const std::string& title,
                       const std::string& x_label, const std::string& y_label) {
    set_color(canvas, kInk);
    draw_text(canvas, title, frame.x + frame.width / 2, frame.y + 28, kTitleSize, 0.5, true);
    draw_text(canvas, x_label, frame.x + 86 + (frame.width - 114) / 2, frame.y + frame.height - 12,
              kLabelSize, 0.5);
    canvas.save();
    canvas.translate(frame.x + 22, frame.y + 48 + (frame.height - 48 - 70) / 2);
    canvas.rotate(-M_PI / 2);
    draw_text(canvas, y_label, 0, 0, kLabelSize, 0.5);
    canvas.restore();
}

// Draws the horizontal grid with y tick labels and returns the y value of the top tick.
double draw_y_grid(const Canvas& canvas, const Rect& area, double max_value) {
    const auto ticks = nice_ticks(max_value);
    const double top = ticks.back();
    canvas.set_line_width(1);
    for (double tick : ticks) {
        const double y = std::round(area.y + area.height - tick / top * area.height) + 0.5;
        set_color(canvas, kGrid);
        canvas.move_to(area.x, y);
        canvas.line_to(area.x + area.width, y);
        canvas.stroke();
        set_color(canvas, kInk);
        draw_text(canvas, format_number(tick), area.x - 8, y + 4, kTickSize, 1);
    }
    return top;
}

void draw_axes(const Canvas& canvas, const Rect& area) {
    set_color(canvas, kInk);
    canvas.set_line_width(1.5);
    canvas.move_to(area.x, area.y);
    canvas.line_to(area.x, area.y + area.height);
    canvas.line_to(area.x + area.width, area.y + area.height);
    canvas.stroke();
}

void draw_no_data(const Canvas& canvas, const Rect& area) {
    set_color(canvas, Color{0.55, 0.55, 0.55});
    draw_text(canvas, "no data", area.x + area.width / 2, area.y + area.height / 2, kLabelSize,
              0.5);
}

void draw_legend(const Canvas& canvas, const Rect& area, const std::vector<std::string>& names,
                 const std::vector<Color>& colors, const std::vector<bool>& dashed) {
    const double row = 18;
    const double width = 150;
    const double x = area.x + 10;
    const double y = area.y + 8;
    canvas.set_source_rgba(1, 1, 1, 0.85);
    canvas.rectangle(x, y, width, row * static_cast<double>(names.size()) + 8);
    canvas.fill();
    for (std::size_t i = 0; i < names.size(); ++i) {
        const double line_y = y + 12 + row * static_cast<double>(i);
        set_color(canvas, colors[i]);
        canvas.set_line_width(3);
        const double dash[] = {6, 4};
        canvas.set_dash(dash, dashed[i] ? 2 : 0, 0);
        canvas.move_to(x + 6, line_y);
        canvas.line_to(x + 30, line_y);
        canvas.stroke();
        canvas.set_dash(nullptr, 0, 0);
        set_color(canvas, kInk);
        draw_text(canvas, names[i], x + 38, line_y + 4, kTickSize);
    }
}

// One row of legend entries, centred at x, for charts whose data fills the top-left corner.
void draw_legend_row(const Canvas& canvas, double center_x, double y,
                     const std::vector<std::string>& names, const std::vector<Color>& colors) {
    const double entry = 170;
    double x = center_x - entry * static_cast<double>(names.size()) / 2;
    for (std::size_t i = 0; i < names.size(); ++i, x += entry) {
        set_color(canvas, colors[i]);
        canvas.rectangle(x, y - 10, 14, 12);
        canvas.fill();
        set_color(canvas, kInk);
        draw_text(canvas, names[i], x + 20, y, kTickSize);
    }
}

double max_y(const LineChart& chart) {
    double max_value = 0;
    for (const auto& series : chart.series) {
        for (const auto& [x, y] : series.points) {
            max_value = std::max(max_value, y);
        }
    }
    return max_value;
}

void draw_series(const Canvas& canvas, const Rect& area, const Series& series, double x_max,
                 double y_max) {
    auto to_x = [&](double x) { return area.x + x / x_max * area.width; };
    auto to_y = [&](double y) { return area.y + area.height - y / y_max * area.height; };
    set_color(canvas, series.color);
    canvas.set_line_width(2.5);
    const double dash[] = {8, 5};
    canvas.set_dash(dash, series.dashed ? 2 : 0, 0);
    for (std::size_t i = 0; i < series.points.size(); ++i) {
        const auto [x, y] = series.points[i];
        i == 0 ? canvas.move_to(to_x(x), to_y(y)) : canvas.line_to(to_x(x), to_y(y));
    }
    canvas.stroke();
    canvas.set_dash(nullptr, 0, 0);
    for (std::size_t i = 0; i < series.points.size() && series.markers; ++i) {
        const auto [x, y] = series.points[i];
        canvas.arc(to_x(x), to_y(y), 4.5, 0, 2 * M_PI);
        canvas.fill();
        if (i < series.point_labels.size()) {
            draw_text(canvas, series.point_labels[i], to_x(x), to_y(y) - 10, 11, 0.5);
        }
    }
}

}  // namespace

Color palette_color(std::size_t index) {
    static constexpr Color kPalette[] = {{0.00, 0.45, 0.70}, {0.90, 0.62, 0.00}, {0.00, 0.62, 0.45},
                                         {0.80, 0.47, 0.65}, {0.34, 0.71, 0.91}, {0.84, 0.37, 0.00},
                                         {0.40, 0.40, 0.40}, {0.94, 0.89, 0.26}, {0.55, 0.34, 0.29},
                                         {0.09, 0.75, 0.81}};
    return kPalette[index % std::size(kPalette)];
}

std::vector<double> nice_ticks(double max, int target) {
    if (!(max > 0) || !std::isfinite(max)) {
        max = 1;
    }
    const double rough = max / std::max(target, 1);
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    double step = power * 10;
    for (double factor : {1.0, 2.0, 5.0}) {
        if (power * factor >= rough) {
            step = power * factor;
            break;
        }
    }
    std::vector<double> ticks;
    for (int i = 0; ticks.empty() || ticks.back() < max * (1 - 1e-9); ++i) {
        ticks.push_back(step * i);
    }
    return ticks;
}

std::string format_number(double value) {
    if (std::abs(value) >= 100 || value == std::round(value)) {
        return fmt::format("{:.0f}", value);
    }
    if (std::abs(value) >= 10) {
        return fmt::format("{:.1f}", value);
    }
    std::string text = fmt::format("{:.2f}", value);
    while (text.back() == '0') {
        text.pop_back();
    }
    if (text.back() == '.') {
        text.pop_back();
    }
    return text;
}

void draw_text(const Canvas& canvas, const std::string& text, double x, double y, double size,
               double align, bool bold) {
    canvas.select_font_face(kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                            bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    canvas.set_font_size(size);
    cairo_text_extents_t extents;
    canvas.text_extents(text.c_str(), &extents);
    canvas.move_to(x - extents.x_advance * align, y);
    canvas.show_text(text.c_str());
}

void draw_line_chart(const Canvas& canvas, const Rect& frame, const LineChart& chart) {
    const Rect area = plot_area(frame, 70);
    draw_frame_labels(canvas, frame, chart.title, chart.x_label, chart.y_label);

    const double y_max = draw_y_grid(canvas, area, max_y(chart) * 1.08);
    const double x_max = chart.x_ticks.empty()
                             ? 1
                             : *std::max_element(chart.x_ticks.begin(), chart.x_ticks.end()) * 1.05;
    set_color(canvas, kInk);
    for (double tick : chart.x_ticks) {
        const double x = area.x + tick / x_max * area.width;
        canvas.move_to(x, area.y + area.height);
        canvas.line_to(x, area.y + area.height + 6);
        canvas.stroke();
        draw_text(canvas, format_number(tick), x, area.y + area.height + 22, kTickSize, 0.5);
    }

    bool any_point = false;
    std::vector<std::string> names;
    std::vector<Color> colors;
    std::vector<bool> dashed;
    for (const auto& series : chart.series) {
        any_point = any_point || !series.points.empty();
        draw_series(canvas, area, series, x_max, y_max);
        names.push_back(series.name);
        colors.push_back(series.color);
        dashed.push_back(series.dashed);
    }

    draw_axes(canvas, area);
    if (!any_point || max_y(chart) <= 0) {
        draw_no_data(canvas, area);
    }
    if (!names.empty()) {
        draw_legend(canvas, area, names, colors, dashed);
    }
}

void draw_bar_chart(const Canvas& canvas, const Rect& frame, const BarChart& chart) {
    Rect area = plot_area(frame, 84);
    area.y += 22;
    area.height -= 22;
    draw_frame_labels(canvas, frame, chart.title, chart.x_label, chart.y_label);
    draw_legend_row(canvas, area.x + area.width / 2, frame.y + 54, chart.bar_names,
                    chart.bar_colors);

    double max_value = 0;
    for (const auto& group : chart.groups) {
        for (double value : group.values) {
            max_value = std::max(max_value, value);
        }
    }

    const double y_max = draw_y_grid(canvas, area, max_value * 1.1);
    const double slot =
        area.width / static_cast<double>(std::max<std::size_t>(chart.groups.size(), 1));
    const double bars = static_cast<double>(std::max<std::size_t>(chart.bar_names.size(), 1));
    const double bar_width = std::min(slot * 0.8 / bars, 48.0);
    for (std::size_t g = 0; g < chart.groups.size(); ++g) {
        const auto& group = chart.groups[g];
        const double center = area.x + slot * (static_cast<double>(g) + 0.5);
        const double left = center - bar_width * bars / 2;
        for (std::size_t b = 0; b < group.values.size() && b < chart.bar_colors.size(); ++b) {
            const double height = group.values[b] / y_max * area.height;
            const double x = left + bar_width * static_cast<double>(b);
            set_color(canvas, chart.bar_colors[b]);
            canvas.rectangle(x + 1, area.y + area.height - height, bar_width - 2, height);
            canvas.fill();
            if (bar_width >= 30) {
                set_color(canvas, kInk);
                draw_text(canvas, format_number(group.values[b]), x + bar_width / 2,
                          area.y + area.height - height - 5, 10, 0.5);
            }
        }
        set_color(canvas, kInk);
        for (std::size_t line = 0; line < group.label_lines.size(); ++line) {
            draw_text(canvas, group.label_lines[line], center,
                      area.y + area.height + 18 + 15 * static_cast<double>(line), 11, 0.5);
        }
    }

    draw_axes(canvas, area);
    if (chart.groups.empty() || max_value <= 0) {
        draw_no_data(canvas, area);
    }
}

}  // namespace imgbus::bench
