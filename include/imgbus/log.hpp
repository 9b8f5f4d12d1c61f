// SPDX-License-Identifier: MIT
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace imgbus {

// The logger of one module ("http", "broker", "store", "worker", "cli"), so that each module's
// level can be set on its own. It shares the default logger's sinks and starts at its level.
inline std::shared_ptr<spdlog::logger> module_logger(const std::string& name) {
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto created = spdlog::default_logger()->clone(name);
    try {
        spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
        // Another thread registered it first.
        return spdlog::get(name);
    }
    return created;
}

}  // namespace imgbus
