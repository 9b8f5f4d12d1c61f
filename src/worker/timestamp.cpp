// SPDX-License-Identifier: MIT
#include <cstdio>
#include <string>

#include "imgbus/worker/job.hpp"

namespace imgbus::worker {
namespace {

using std::chrono::days;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::sys_days;

// Reads exactly `count` decimal digits at `pos` and advances it.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t count) {
    if (pos + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    pos += count;
    return value;
}

bool expect_char(std::string_view text, std::size_t& pos, std::string_view allowed) {
    if (pos >= text.size() || allowed.find(text[pos]) == std::string_view::npos) {
        return false;
    }
    ++pos;
    return true;
}

// Reads ".digits" if present, as nanoseconds. Digits past the ninth are read and ignored.
std::optional<nanoseconds> read_fraction(std::string_view text, std::size_t& pos) {
    if (pos >= text.size() || text[pos] != '.') {
        return nanoseconds{0};
    }
    ++pos;
    const std::size_t first = pos;
    long long value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (pos - first < 9) {
            value = value * 10 + (text[pos] - '0');
        }
        ++pos;
    }
    const std::size_t digits = pos - first;
    if (digits == 0 || digits > 18) {
        return std::nullopt;
    }
    for (std::size_t i = digits; i < 9; ++i) {
        value *= 10;
    }
    return nanoseconds{value};
}

// Reads "Z" or "+hh:mm"/"-hh:mm" as the offset from UTC.
std::optional<std::chrono::minutes> read_offset(std::string_view text, std::size_t& pos) {
    if (expect_char(text, pos, "Zz")) {
        return std::chrono::minutes{0};
    }
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
        return std::nullopt;
    }
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto hours = read_digits(text, pos, 2);
    if (!hours || !expect_char(text, pos, ":")) {
        return std::nullopt;
    }
    const auto minutes = read_digits(text, pos, 2);
    if (!minutes || *hours > 23 || *minutes > 59) {
        return std::nullopt;
    }
    return std::chrono::minutes{sign * (*hours * 60 + *minutes)};
}

}  // namespace

std::string format_timestamp(std::chrono::system_clock::time_point time) {
    const auto millis = std::chrono::floor<milliseconds>(time);
    const auto day = std::chrono::floor<days>(millis);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss clock{millis - day};

    char buffer[40];
    std::snprintf(
        buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
        static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
    return buffer;
}

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
    std::size_t pos = 0;
    const auto year = read_digits(text, pos, 4);
    if (!year || !expect_char(text, pos, "-")) {
        return std::nullopt;
    }
    const auto month = read_digits(text, pos, 2);
    if (!month || !expect_char(text, pos, "-")) {
        return std::nullopt;
    }
    const auto day = read_digits(text, pos, 2);
    if (!day || !expect_char(text, pos, "Tt")) {
        return std::nullopt;
    }

    const auto hour = read_digits(text, pos, 2);
    if (!hour || !expect_char(text, pos, ":")) {
        return std::nullopt;
    }
    const auto minute = read_digits(text, pos, 2);
    if (!minute || !expect_char(text, pos, ":")) {
        return std::nullopt;
    }
    const auto second = read_digits(text, pos, 2);
    const auto fraction = read_fraction(text, pos);
    const auto offset = read_offset(text, pos);
    if (!second || !fraction || !offset || pos != text.size()) {
        return std::nullopt;
    }

    // Second 60 is a leap second, which RFC 3339 allows.
    const std::chrono::year_month_day date{std::chrono::year{*year},
                                           std::chrono::month{static_cast<unsigned>(*month)},
                                           std::chrono::day{static_cast<unsigned>(*day)}};
    if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    const auto since_midnight =
        std::chrono::hours{*hour} + std::chrono::minutes{*minute} + std::chrono::seconds{*second};
    const auto utc = sys_days{date} + since_midnight + *fraction - *offset;
    return std::chrono::time_point_cast<std::chrono::system_clock::duration>(utc);
}

}  // namespace imgbus::worker
