// SPDX-License-Identifier: MIT
#include "duration.hpp"

#include <charconv>
#include <system_error>

namespace imgbus::cli {

Result<std::chrono::seconds> parse_duration(const std::string& text, const std::string& flag) {
    auto invalid = [&] {
        return Error{std::make_error_code(std::errc::invalid_argument),
                     flag + " = '" + text.substr(0, 40) +
                         "' is not a duration; give a whole number with a unit s, m, h or d, "
                         "such as 90s, 30m, 12h or 7d, or 0 to keep everything"};
    };
    auto too_long = [&] {
        return Error{std::make_error_code(std::errc::invalid_argument),
                     flag + " = '" + text.substr(0, 40) +
                         "' is longer than 100 years; give at most 36500d, or use 0 to keep "
                         "every job"};
    };
    if (text == "0") return std::chrono::seconds(0);
    if (text.size() < 2) return invalid();
    std::int64_t unit = 0;
    switch (text.back()) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return invalid();
    }
    std::int64_t count = 0;
    const char* end = text.data() + text.size() - 1;
    auto [stop, error] = std::from_chars(text.data(), end, count);
    if (error == std::errc::result_out_of_range && stop == end && text[0] != '-') {
        return too_long();
    }
    if (error != std::errc() || stop != end || count < 0) return invalid();
    if (count > kMaxDuration.count() / unit) return too_long();
    return std::chrono::seconds(count * unit);
}

}  // namespace imgbus::cli
