// SPDX-License-Identifier: MIT
#include "retry.hpp"

#include <catch2/catch.hpp>

using namespace imgbus::bench;

namespace {

// 1994-11-06T08:49:37Z
std::chrono::system_clock::time_point reference_time() {
    return std::chrono::system_clock::from_time_t(784111777);
}

}  // namespace

TEST_CASE("retry-after as delta seconds", "[bench]") {
    CHECK(parse_retry_after("2", reference_time()) == 2.0);
    CHECK(parse_retry_after(" 120 ", reference_time()) == 120.0);
    CHECK(parse_retry_after("0", reference_time()) == 0.0);
}

TEST_CASE("retry-after as an HTTP date", "[bench]") {
    auto later = parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", reference_time());
    REQUIRE(later.has_value());
    CHECK(*later == Approx(10));
    auto past = parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", reference_time());
    REQUIRE(past.has_value());
    CHECK(*past == 0);
}

TEST_CASE("retry-after rejects other text", "[bench]") {
    CHECK_FALSE(parse_retry_after("", reference_time()));
    CHECK_FALSE(parse_retry_after("-1", reference_time()));
    CHECK_FALSE(parse_retry_after("1.5", reference_time()));
    CHECK_FALSE(parse_retry_after("soon", reference_time()));
    CHECK_FALSE(parse_retry_after("06 Nov 1994", reference_time()));
}

TEST_CASE("back-off doubles and is capped", "[bench]") {
    const BackoffPolicy policy{0.5, 10};
    CHECK(backoff_seconds(policy, 1, std::nullopt, 0) == Approx(0.5));
    CHECK(backoff_seconds(policy, 2, std::nullopt, 0) == Approx(1.0));
    CHECK(backoff_seconds(policy, 3, std::nullopt, 0) == Approx(2.0));
    CHECK(backoff_seconds(policy, 10, std::nullopt, 0) == Approx(10));
    CHECK(backoff_seconds(policy, 1000, std::nullopt, 0) == Approx(10));
}

TEST_CASE("back-off honours a longer retry-after", "[bench]") {
    const BackoffPolicy policy{0.5, 10};
    CHECK(backoff_seconds(policy, 1, 2.0, 0) == Approx(2.0));
    CHECK(backoff_seconds(policy, 4, 2.0, 0) == Approx(4.0));
    CHECK(backoff_seconds(policy, 1, 3600.0, 0) == Approx(10));
}

TEST_CASE("back-off jitter only lengthens the wait", "[bench]") {
    const BackoffPolicy policy{0.5, 10};
    CHECK(backoff_seconds(policy, 1, 2.0, 0.25) == Approx(2.5));
    CHECK(backoff_seconds(policy, 1, 2.0, 5.0) == Approx(2.5));
    CHECK(backoff_seconds(policy, 1, 2.0, -1.0) == Approx(2.0));
}

TEST_CASE("retryable statuses", "[bench]") {
    CHECK(is_retryable_status(503));
    CHECK(is_retryable_status(429));
    CHECK(is_retryable_status(502));
    CHECK(is_retryable_status(504));
    CHECK_FALSE(is_retryable_status(400));
    CHECK_FALSE(is_retryable_status(413));
    CHECK_FALSE(is_retryable_status(500));
    CHECK_FALSE(is_retryable_status(202));
}
