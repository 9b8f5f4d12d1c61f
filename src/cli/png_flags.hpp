// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "imgbus/imaging/codec.hpp"

namespace imgbus::cli {

struct PngFlags {
    CLI::Option* level;
    CLI::Option* filter;
};

// Adds --png-level and --png-filter, the PNG encoder's speed settings, to a command.
inline PngFlags add_png_options(CLI::App& command, int& level, imaging::PngFilter& filter) {
    namespace imaging = imgbus::imaging;
    const std::map<std::string, imaging::PngFilter> filters = {
        {"none", imaging::PngFilter::none},   {"sub", imaging::PngFilter::sub},
        {"up", imaging::PngFilter::up},       {"average", imaging::PngFilter::average},
        {"paeth", imaging::PngFilter::paeth}, {"adaptive", imaging::PngFilter::adaptive}};
    PngFlags flags;
    flags.level = command
                      .add_option("--png-level", level,
                                  "zlib level of PNG output: 0 stores, 1 is fastest, 9 smallest "
                                  "and slowest")
                      ->check(CLI::Range(0, 9))
                      ->capture_default_str();
    flags.filter = command
                       .add_option("--png-filter", filter,
                                   "PNG row filter: none, sub, up, average, paeth, or adaptive "
                                   "(libpng tries all five on each row; smaller, slower)")
                       ->transform(CLI::CheckedTransformer(filters).description(
                           "{none,sub,up,average,paeth,adaptive}"))
                       ->default_str(std::string(imaging::png_filter_name(filter)));
    return flags;
}

}  // namespace imgbus::cli
