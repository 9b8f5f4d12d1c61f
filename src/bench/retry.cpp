// SPDX-License-Identifier: MIT
#include "retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <string>

namespace imgbus::bench {
namespace {

std::optional<double> parse_delta_seconds(std::string_view value) {
    long long seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error != std::errc() || end != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return static_cast<double>(seconds);
}

// IMF-fixdate, the form RFC 9110 requires senders to use.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value) {
    std::tm parts{};
    std::istringstream input{std::string(value)};
    input.imbue(std::locale::classic());
    input >> std::get_time(&parts, "%a, %d %b %Y %H:%M:%S GMT");
    if (input.fail()) {
        return std::nullopt;
    }
    const std::time_t seconds = timegm(&parts);
    if (seconds == static_cast<std::time_t>(-1)) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(seconds);
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace

std::optional<double> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now) {
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (auto seconds = parse_delta_seconds(value)) {
        return seconds;
    }
    auto date = parse_http_date(value);
    if (!date) {
        return std::nullopt;
    }
    const std::chrono::duration<double> wait = *date - now;
    return std::max(0.0, wait.count());
}

double backoff_seconds(const BackoffPolicy& policy, int retry, std::optional<double> retry_after,
                       double jitter) {
    const int exponent = std::clamp(retry - 1, 0, 30);
    double wait = policy.initial_seconds * std::ldexp(1.0, exponent);
    if (retry_after) {
        wait = std::max(wait, *retry_after);
    }
    wait = std::min(wait, policy.max_seconds);
    return wait * (1.0 + std::clamp(jitter, 0.0, 0.25));
}

bool is_retryable_status(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace imgbus::bench
