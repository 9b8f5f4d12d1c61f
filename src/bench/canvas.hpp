// SPDX-License-Identifier: MIT
#pragma once

#include "cairo_library.hpp"

namespace imgbus::bench {

// A cairo drawing context together with the loaded cairo functions that draw on it. The
// methods are named after the cairo functions they call, without the cairo_ prefix.
class Canvas {
  public:
    Canvas(const CairoLibrary& cairo, cairo_t* context) : cairo_(cairo), context_(context) {}

    void save() const { cairo_.save(context_); }
    void restore() const { cairo_.restore(context_); }
    void translate(double x, double y) const { cairo_.translate(context_, x, y); }
    void rotate(double radians) const { cairo_.rotate(context_, radians); }
    void set_source_rgb(double red, double green, double blue) const {
        cairo_.set_source_rgb(context_, red, green, blue);
    }
    void set_source_rgba(double red, double green, double blue, double alpha) const {
        cairo_.set_source_rgba(context_, red, green, blue, alpha);
    }
    void set_line_width(double width) const { cairo_.set_line_width(context_, width); }
    void set_dash(const double* dashes, int count, double offset) const {
        cairo_.set_dash(context_, dashes, count, offset);
    }
    void paint() const { cairo_.paint(context_); }
    void move_to(double x, double y) const { cairo_.move_to(context_, x, y); }
    void line_to(double x, double y) const { cairo_.line_to(context_, x, y); }
    void arc(double x, double y, double radius, double from, double to) const {
        cairo_.arc(context_, x, y, radius, from, to);
    }
    void rectangle(double x, double y, double width, double height) const {
        cairo_.rectangle(context_, x, y, width, height);
    }
    void stroke() const { cairo_.stroke(context_); }
    void fill() const { cairo_.fill(context_); }
    void select_font_face(const char* family, cairo_font_slant_t slant,
                          cairo_font_weight_t weight) const {
        cairo_.select_font_face(context_, family, slant, weight);
    }
    void set_font_size(double size) const { cairo_.set_font_size(context_, size); }
    void text_extents(const char* text, cairo_text_extents_t* extents) const {
        cairo_.text_extents(context_, text, extents);
    }
    void show_text(const char* text) const { cairo_.show_text(context_, text); }

  private:
    const CairoLibrary& cairo_;
    cairo_t* context_;
};

}  // namespace imgbus::bench
