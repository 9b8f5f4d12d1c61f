// SPDX-License-Identifier: MIT
#include "job_retention.hpp"

#include <catch2/catch.hpp>

using imgbus::http::retention_cutoff;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

TEST_CASE("the retention cutoff is now minus the retention", "[http]") {
    const auto now = Clock::now();
    CHECK(retention_cutoff(now, 3600s) == now - 3600s);
    CHECK(retention_cutoff(now, 24h * 36500) < now);
}

TEST_CASE("a retention longer than the clock's past saturates instead of wrapping", "[http]") {
    const auto now = Clock::now();
    // 200000 days: now minus that in nanoseconds is below the clock's range.
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    for (std::chrono::seconds retention : {std::chrono::seconds{24h * 200'000}, since_epoch + 1s}) {
        const auto cutoff = retention_cutoff(now, retention);
        CHECK(cutoff == Clock::time_point::min());
        CHECK(cutoff < now - 24h * 365);  // no finished job is old enough
    }
}
