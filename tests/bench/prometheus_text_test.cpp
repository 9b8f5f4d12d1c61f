// SPDX-License-Identifier: MIT
#include "prometheus_text.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "scrape.hpp"

using namespace imgbus::bench;

namespace {

const char* const kBefore = R"(# HELP frontend_request_seconds Upload to done.
# TYPE frontend_request_seconds histogram
frontend_request_seconds_bucket{op="grayscale",le="0.1"} 3
frontend_request_seconds_bucket{op="grayscale",le="+Inf"} 4
frontend_request_seconds_sum{op="grayscale"} 0.5
frontend_request_seconds_count{op="grayscale"} 4
frontend_request_seconds_sum{op="blur"} 9
frontend_request_seconds_count{op="blur"} 3
grayscale_queue_wait_seconds_sum 0.01
grayscale_queue_wait_seconds_count 4
grayscale_process_seconds_sum 0.02
grayscale_process_seconds_count 4
frontend_processed_total{op="grayscale",status="done"} 4
frontend_processed_total{op="grayscale",status="failed"} 0
)";

const char* const kAfter = R"(frontend_request_seconds_sum{op="grayscale"} 2.5
frontend_request_seconds_count{op="grayscale"} 14
frontend_request_seconds_sum{op="blur"} 19
frontend_request_seconds_count{op="blur"} 4
grayscale_queue_wait_seconds_sum 1.01
grayscale_queue_wait_seconds_count 14
grayscale_process_seconds_sum 0.07
grayscale_process_seconds_count 14
frontend_processed_total{op="grayscale",status="done"} 13
frontend_processed_total{op="grayscale",status="failed"} 1
)";

std::vector<Sample> parse(const char* text) {
    auto samples = parse_prometheus_text(text);
    REQUIRE(samples.ok());
    return *samples;
}

}  // namespace

TEST_CASE("prometheus text parses names, labels and values", "[bench]") {
    const auto samples = parse(kBefore);
    REQUIRE(samples.size() == 12);
    CHECK(samples[0].name == "frontend_request_seconds_bucket");
    CHECK(samples[0].labels.at("op") == "grayscale");
    CHECK(samples[0].labels.at("le") == "0.1");
    CHECK(samples[0].value == 3);
    CHECK(samples[1].labels.at("le") == "+Inf");
    CHECK(samples[6].name == "grayscale_queue_wait_seconds_sum");
    CHECK(samples[6].labels.empty());
}

TEST_CASE("prometheus text handles escapes, infinities and timestamps", "[bench]") {
    const auto samples = parse(
        "a{path=\"C:\\\\x\",quote=\"say \\\"hi\\\"\",nl=\"1\\n2\"} +Inf\n"
        "b -Inf\nc NaN\nd 1.5e3 1700000000000\r\ne{} 7\n");
    REQUIRE(samples.size() == 5);
    CHECK(samples[0].labels.at("path") == "C:\\x");
    CHECK(samples[0].labels.at("quote") == "say \"hi\"");
    CHECK(samples[0].labels.at("nl") == "1\n2");
    CHECK(std::isinf(samples[0].value));
    CHECK(samples[1].value < 0);
    CHECK(std::isnan(samples[2].value));
    CHECK(samples[3].value == 1500);
    CHECK(samples[4].value == 7);
}

TEST_CASE("prometheus text rejects a malformed line", "[bench]") {
    auto bad_value = parse_prometheus_text("ok 1\nbroken{op=\"x\"} abc\n");
    REQUIRE_FALSE(bad_value.ok());
    CHECK_THAT(bad_value.error().message, Catch::Contains("line 2"));
    CHECK_THAT(bad_value.error().message, Catch::Contains("not a number"));

    auto bad_labels = parse_prometheus_text("x{op=grayscale} 1\n");
    REQUIRE_FALSE(bad_labels.ok());
    CHECK_THAT(bad_labels.error().message, Catch::Contains("labels"));

    CHECK_FALSE(parse_prometheus_text("x{op=\"unterminated} 1\n").ok());
    CHECK_FALSE(parse_prometheus_text("{op=\"a\"} 1\n").ok());
}

TEST_CASE("sum of samples filters by label", "[bench]") {
    const auto samples = parse(kBefore);
    CHECK(sum_samples(samples, "frontend_request_seconds_count") == 7);
    CHECK(sum_samples(samples, "frontend_request_seconds_count", {{"op", "grayscale"}}) == 4);
    CHECK(sum_samples(samples, "frontend_request_seconds_count", {{"op", "none"}}) == 0);
    CHECK(sum_samples(samples, "no_such_metric") == 0);
}

TEST_CASE("histogram mean between two scrapes", "[bench]") {
    const auto before =
        histogram_totals(parse(kBefore), "frontend_request_seconds", {{"op", "grayscale"}});
    const auto after =
        histogram_totals(parse(kAfter), "frontend_request_seconds", {{"op", "grayscale"}});
    CHECK(before.count == 4);
    CHECK(after.sum == Approx(2.5));
    CHECK(mean_between(before, after) == Approx(0.2));
    CHECK(mean_between(after, after) == 0);
}

TEST_CASE("breakdown of a step from scrape deltas", "[bench]") {
    const auto breakdown = breakdown_between(parse(kBefore), parse(kAfter), "grayscale");
    CHECK(breakdown.scraped);
    CHECK(breakdown.processed == 10);
    CHECK(breakdown.total_count == 10);
    CHECK(breakdown.total_ms_avg == Approx(200));
    CHECK(breakdown.queue_wait_count == 10);
    CHECK(breakdown.queue_wait_ms_avg == Approx(100));
    CHECK(breakdown.process_ms_avg == Approx(5));
}
