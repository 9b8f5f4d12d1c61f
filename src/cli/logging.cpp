// SPDX-License-Identifier: MIT
#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace imgbus::cli {
namespace {

std::atomic<prometheus::Counter*> log_error_counter{nullptr};

void count_log_error(const std::string& /*message*/) {
    if (auto* counter = log_error_counter.load()) {
        counter->Increment();
    }
}

}  // namespace

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("imgbus");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::flush_on(spdlog::level::info);
}

void attach_log_error_counter(prometheus::Counter& counter) {
    log_error_counter.store(&counter);
    spdlog::set_error_handler(count_log_error);
}

}  // namespace imgbus::cli
