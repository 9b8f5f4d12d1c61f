// SPDX-License-Identifier: MIT
#include "cairo_library.hpp"

#include "imgbus/dynload/shared_library.hpp"

namespace imgbus::bench {
namespace {

void bind_surface(dynload::SymbolBinder& bind, CairoLibrary& table) {
    bind("cairo_image_surface_create", table.image_surface_create);
    bind("cairo_surface_flush", table.surface_flush);
    bind("cairo_surface_write_to_png", table.surface_write_to_png);
    bind("cairo_surface_destroy", table.surface_destroy);
    bind("cairo_create", table.create);
    bind("cairo_destroy", table.destroy);
    bind("cairo_status", table.status);
    bind("cairo_status_to_string", table.status_to_string);
}

void bind_drawing(dynload::SymbolBinder& bind, CairoLibrary& table) {
    bind("cairo_save", table.save);
    bind("cairo_restore", table.restore);
    bind("cairo_translate", table.translate);
    bind("cairo_rotate", table.rotate);
    bind("cairo_set_source_rgb", table.set_source_rgb);
    bind("cairo_set_source_rgba", table.set_source_rgba);
    bind("cairo_set_line_width", table.set_line_width);
    bind("cairo_set_dash", table.set_dash);
    bind("cairo_paint", table.paint);
    bind("cairo_move_to", table.move_to);
    bind("cairo_line_to", table.line_to);
    bind("cairo_arc", table.arc);
    bind("cairo_rectangle", table.rectangle);
    bind("cairo_stroke", table.stroke);
    bind("cairo_fill", table.fill);
    bind("cairo_select_font_face", table.select_font_face);
    bind("cairo_set_font_size", table.set_font_size);
    bind("cairo_text_extents", table.text_extents);
    bind("cairo_show_text", table.show_text);
}

void bind_all(dynload::SymbolBinder& bind, CairoLibrary& table) {
    bind_surface(bind, table);
    bind_drawing(bind, table);
}

}  // namespace

Result<const CairoLibrary*> load_cairo() {
    return dynload::load_table<CairoLibrary>({"libcairo.so.2", "libcairo2", "the benchmark plot"},
                                             bind_all);
}

}  // namespace imgbus::bench
