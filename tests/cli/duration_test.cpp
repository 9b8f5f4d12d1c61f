// SPDX-License-Identifier: MIT
#include "duration.hpp"

#include <catch2/catch.hpp>

using imgbus::cli::parse_duration;
using namespace std::chrono_literals;

TEST_CASE("duration reads a number with a unit", "[cli]") {
    CHECK(*parse_duration("90s", "--job-retention") == 90s);
    CHECK(*parse_duration("30m", "--job-retention") == 1800s);
    CHECK(*parse_duration("12h", "--job-retention") == 43200s);
    CHECK(*parse_duration("7d", "--job-retention") == 604800s);
    CHECK(*parse_duration("0", "--job-retention") == 0s);
}

TEST_CASE("duration refuses other forms and names the flag", "[cli]") {
    for (const char* text : {"", "7", "d", "7w", "-1d", "1.5h", "7 d"}) {
        INFO("text '" << text << "'");
        auto parsed = parse_duration(text, "--job-retention");
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message.find("--job-retention") != std::string::npos);
        CHECK(parsed.error().message.find("7d") != std::string::npos);
    }
}

TEST_CASE("duration refuses more than 100 years and offers 0", "[cli]") {
    CHECK(*parse_duration("36500d", "--job-retention") == std::chrono::hours(24) * 36500);
    for (const char* text :
         {"36501d", "200000d", "876001h", "9223372036854775807s", "99999999999999999999d"}) {
        INFO("text '" << text << "'");
        auto parsed = parse_duration(text, "--job-retention");
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message.find("--job-retention") != std::string::npos);
        CHECK(parsed.error().message.find("100 years") != std::string::npos);
        CHECK(parsed.error().message.find("use 0 to keep every job") != std::string::npos);
    }
}
