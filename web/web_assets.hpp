// SPDX-License-Identifier: MIT
#pragma once

#include <span>
#include <string_view>

namespace imgbus::http {

// A file of the web UI, embedded at build time. name is the path under /, such as "index.html"
// or "vendor/chart.min.js".
struct WebAsset {
    std::string_view name;
    std::string_view content;
};

std::span<const WebAsset> web_assets();

}  // namespace imgbus::http
