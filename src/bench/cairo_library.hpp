// SPDX-License-Identifier: MIT
#pragma once
// cairo, loaded with dlopen when `imgbus bench` draws its plot instead of at program start.
// libcairo.so.2 pulls in 17 more libraries (pixman, fontconfig, freetype, X11, xcb and others),
// which added about 1.1 ms of mapping and relocation to the start of every imgbus command.
#include <cairo.h>

#include "imgbus/result.hpp"

namespace imgbus::bench {

// The cairo functions that the benchmark plot calls.
struct CairoLibrary {
    decltype(&::cairo_image_surface_create) image_surface_create = nullptr;
    decltype(&::cairo_surface_flush) surface_flush = nullptr;
    decltype(&::cairo_surface_write_to_png) surface_write_to_png = nullptr;
    decltype(&::cairo_surface_destroy) surface_destroy = nullptr;
    decltype(&::cairo_create) create = nullptr;
    decltype(&::cairo_destroy) destroy = nullptr;
    decltype(&::cairo_status) status = nullptr;
    decltype(&::cairo_status_to_string) status_to_string = nullptr;
    decltype(&::cairo_save) save = nullptr;
    decltype(&::cairo_restore) restore = nullptr;
    decltype(&::cairo_translate) translate = nullptr;
    decltype(&::cairo_rotate) rotate = nullptr;
    decltype(&::cairo_set_source_rgb) set_source_rgb = nullptr;
    decltype(&::cairo_set_source_rgba) set_source_rgba = nullptr;
    decltype(&::cairo_set_line_width) set_line_width = nullptr;
    decltype(&::cairo_set_dash) set_dash = nullptr;
    decltype(&::cairo_paint) paint = nullptr;
    decltype(&::cairo_move_to) move_to = nullptr;
    decltype(&::cairo_line_to) line_to = nullptr;
    decltype(&::cairo_arc) arc = nullptr;
    decltype(&::cairo_rectangle) rectangle = nullptr;
    decltype(&::cairo_stroke) stroke = nullptr;
    decltype(&::cairo_fill) fill = nullptr;
    decltype(&::cairo_select_font_face) select_font_face = nullptr;
    decltype(&::cairo_set_font_size) set_font_size = nullptr;
    decltype(&::cairo_text_extents) text_extents = nullptr;
    decltype(&::cairo_show_text) show_text = nullptr;
};

// Loads libcairo.so.2 once per process; later calls return the same table. Fails with a message
// that names the library and the Debian package to install.
Result<const CairoLibrary*> load_cairo();

}  // namespace imgbus::bench
