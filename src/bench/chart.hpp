// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "canvas.hpp"

namespace imgbus::bench {

struct Color {
    double red = 0;
    double green = 0;
    double blue = 0;
};

// The n-th colour of a palette of ten that stays distinct for common colour blindness.
Color palette_color(std::size_t index);

// A rectangle in device pixels.
struct Rect {
    double x = 0;
    double y = 0;
    double width = 0;
    double height = 0;
};

struct Series {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
    Color color;
    bool dashed = false;
    bool markers = true;
    std::vector<std::string> point_labels;  // optional text above each point
};

// A line chart with linear axes from 0; the x ticks sit at the given values.
struct LineChart {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<double> x_ticks;
    std::vector<Series> series;
};

// A group of bars at one x position, one bar per entry of BarChart::bar_names.
struct BarGroup {
    std::vector<std::string> label_lines;  // drawn under the group, one per line
    std::vector<double> values;
};

struct BarChart {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<std::string> bar_names;
    std::vector<Color> bar_colors;
    std::vector<BarGroup> groups;
};

// Round tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten, about
// `target` of them. A max of 0 or less gives the ticks of 1.
std::vector<double> nice_ticks(double max, int target = 5);

// Draws a chart, with its title, axes, units and legend, inside the frame.
void draw_line_chart(const Canvas& canvas, const Rect& frame, const LineChart& chart);
void draw_bar_chart(const Canvas& canvas, const Rect& frame, const BarChart& chart);

// Writes text with its left edge at x and its baseline at y (align 0), centred (0.5) or
// right-aligned (1); bold selects the bold face.
void draw_text(const Canvas& canvas, const std::string& text, double x, double y, double size,
               double align = 0, bool bold = false);

// Formats a tick or value label without needless digits (1200, 12.5, 0.25).
std::string format_number(double value);

}  // namespace imgbus::bench
