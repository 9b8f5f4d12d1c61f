// SPDX-License-Identifier: MIT
#include "time_format.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace imgbus::s3 {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

struct Fields {
    int year, month, day, hour, minute, second;
};

Fields split(Clock::time_point time) {
    using namespace std::chrono;
    const auto days = floor<std::chrono::days>(time);
    const year_month_day date{days};
    const hh_mm_ss clock{floor<seconds>(time - days)};
    return {static_cast<int>(date.year()),
            static_cast<int>(static_cast<unsigned>(date.month())),
            static_cast<int>(static_cast<unsigned>(date.day())),
            static_cast<int>(clock.hours().count()),
            static_cast<int>(clock.minutes().count()),
            static_cast<int>(clock.seconds().count())};
}

std::optional<Clock::time_point> join(const Fields& f) {
    using namespace std::chrono;
    const year_month_day date{year{f.year}, month{static_cast<unsigned>(f.month)},
                              day{static_cast<unsigned>(f.day)}};
    if (!date.ok() || f.hour > 23 || f.minute > 59 || f.second > 60) {
        return std::nullopt;
    }
    return sys_days{date} + hours{f.hour} + minutes{f.minute} + seconds{f.second};
}

bool read_number(std::string_view text, std::size_t offset, std::size_t digits, int& out) {
    if (offset + digits > text.size()) {
        return false;
    }
    const char* begin = text.data() + offset;
    for (std::size_t i = 0; i < digits; ++i) {
        if (begin[i] < '0' || begin[i] > '9') {
            return false;
        }
    }
    return std::from_chars(begin, begin + digits, out).ec == std::errc();
}

}  // namespace

std::string format_amz_date(Clock::time_point time) {
    const auto f = split(time);
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", f.year, f.month, f.day, f.hour, f.minute,
                       f.second);
}

std::optional<Clock::time_point> parse_amz_date(std::string_view text) {
    Fields f{};
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z' ||
        !read_number(text, 0, 4, f.year) || !read_number(text, 4, 2, f.month) ||
        !read_number(text, 6, 2, f.day) || !read_number(text, 9, 2, f.hour) ||
        !read_number(text, 11, 2, f.minute) || !read_number(text, 13, 2, f.second)) {
        return std::nullopt;
    }
    return join(f);
}

std::string format_http_date(Clock::time_point time) {
    using namespace std::chrono;
    const auto f = split(time);
    const weekday day{floor<days>(time)};
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kWeekdays[day.c_encoding()],
                       f.day, kMonths[static_cast<std::size_t>(f.month - 1)], f.year, f.hour,
                       f.minute, f.second);
}

std::optional<Clock::time_point> parse_http_date(std::string_view text) {
    // "Fri, 24 May 2013 00:00:00 GMT": fixed positions after the weekday.
    Fields f{};
    if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT" ||
        !read_number(text, 5, 2, f.day) || !read_number(text, 12, 4, f.year) ||
        !read_number(text, 17, 2, f.hour) || !read_number(text, 20, 2, f.minute) ||
        !read_number(text, 23, 2, f.second) || text[19] != ':' || text[22] != ':') {
        return std::nullopt;
    }
    const auto month = text.substr(8, 3);
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (kMonths[i] == month) {
            f.month = static_cast<int>(i) + 1;
        }
    }
    if (f.month == 0) {
        return std::nullopt;
    }
    return join(f);
}

std::string format_iso8601(Clock::time_point time) {
    const auto f = split(time);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() %
        1000;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", f.year, f.month, f.day, f.hour,
                       f.minute, f.second, millis < 0 ? 0 : millis);
}

}  // namespace imgbus::s3
