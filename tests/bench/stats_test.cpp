// SPDX-License-Identifier: MIT
#include "stats.hpp"

#include <catch2/catch.hpp>

#include "imgbus/bench/load.hpp"

using imgbus::bench::percentile;
using imgbus::bench::RequestResult;
using imgbus::bench::ServerTimings;
using imgbus::bench::summarize;
using imgbus::bench::summarize_latencies;

TEST_CASE("percentile interpolates between ranks", "[bench]") {
    const std::vector<double> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    // Expected values are numpy.percentile's defaults (linear interpolation).
    CHECK(percentile(values, 0.50) == Approx(5.5));
    CHECK(percentile(values, 0.95) == Approx(9.55));
    CHECK(percentile(values, 0.99) == Approx(9.91));
    CHECK(percentile(values, 0.0) == Approx(1));
    CHECK(percentile(values, 1.0) == Approx(10));
}

TEST_CASE("percentile of one or no value", "[bench]") {
    CHECK(percentile({}, 0.5) == 0);
    CHECK(percentile({42}, 0.95) == 42);
    CHECK(percentile({1, 3}, 0.5) == Approx(2));
}

TEST_CASE("latency summary sorts its input", "[bench]") {
    const auto summary = summarize_latencies({0.3, 0.1, 0.2, 0.4});
    CHECK(summary.count == 4);
    CHECK(summary.min == Approx(0.1));
    CHECK(summary.max == Approx(0.4));
    CHECK(summary.avg == Approx(0.25));
    CHECK(summary.p50 == Approx(0.25));
    CHECK(summary.p95 == Approx(0.385));
}

TEST_CASE("load summary counts failures by reason", "[bench]") {
    std::vector<RequestResult> requests(5);
    for (int i = 0; i < 3; ++i) {
        requests[i].ok = true;
        requests[i].attempts = 1;
        requests[i].latency_seconds = 0.1 * (i + 1);
        requests[i].server = ServerTimings{1.0, 2.0 * (i + 1), 10.0, 50.0 * (i + 1)};
    }
    requests[3].reason = "http_503";
    requests[3].attempts = 4;
    requests[4].reason = "timeout";
    requests[4].attempts = 1;

    const auto summary = summarize(requests, 2.0);
    CHECK(summary.sent == 5);
    CHECK(summary.succeeded == 3);
    CHECK(summary.failed == 2);
    CHECK(summary.failures_by_reason.at("http_503") == 1);
    CHECK(summary.failures_by_reason.at("timeout") == 1);
    CHECK(summary.success_percent == Approx(60));
    CHECK(summary.retries == 3);
    CHECK(summary.throughput_jobs_per_second == Approx(1.5));
    CHECK(summary.latency.avg == Approx(0.2));
    CHECK(summary.latency.max == Approx(0.3));
    CHECK(summary.server_total.avg == Approx(0.1));
    CHECK(summary.kernel_ms_avg == Approx(4.0));
}

TEST_CASE("load summary of no success", "[bench]") {
    std::vector<RequestResult> requests(2);
    requests[0].reason = "connection";
    requests[1].reason = "connection";
    const auto summary = summarize(requests, 1.0);
    CHECK(summary.success_percent == 0);
    CHECK(summary.latency.count == 0);
    CHECK(summary.latency.p95 == 0);
    CHECK(summary.failures_by_reason.at("connection") == 2);
}
