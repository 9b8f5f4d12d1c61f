// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace imgbus::s3 {

using Clock = std::chrono::system_clock;

// "20130524T000000Z", the SigV4 request time.
std::string format_amz_date(Clock::time_point time);
std::optional<Clock::time_point> parse_amz_date(std::string_view text);
// "Fri, 24 May 2013 00:00:00 GMT", the HTTP date (RFC 9110 IMF-fixdate).
std::string format_http_date(Clock::time_point time);
std::optional<Clock::time_point> parse_http_date(std::string_view text);
// "2013-05-24T00:00:00.000Z", the time format of S3's XML documents.
std::string format_iso8601(Clock::time_point time);

}  // namespace imgbus::s3
