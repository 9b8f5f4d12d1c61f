// SPDX-License-Identifier: MIT
#include "imgbus/worker/job.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using namespace imgbus::worker;
using nlohmann::json;
using std::chrono::milliseconds;

std::chrono::system_clock::time_point at_millis(long long millis) {
    return std::chrono::system_clock::time_point{milliseconds{millis}};
}

JobMessage sample_job() {
    JobMessage job;
    job.id = "j-0001";
    job.batch = "b-01";
    job.op = "grayscale";
    job.params = {{"strength", "0.5"}};
    job.threads = 4;
    job.passes = 3;
    job.run = 2;
    job.input = {"uploads", "b-01/input.jpg"};
    job.output = {"results", "b-01/j-0001.jpg"};
    job.submitted_at = at_millis(1'796'403'600'123);
    return job;
}

json sample_job_json() { return json::parse(to_json(sample_job())); }

std::string job_error(const json& value) {
    const auto parsed = parse_job_message(value.dump());
    REQUIRE_FALSE(parsed.ok());
    return parsed.error().message;
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("job message round trip", "[worker]") {
    const JobMessage job = sample_job();
    const auto parsed = parse_job_message(to_json(job));
    REQUIRE(parsed.ok());
    CHECK(parsed->version == kProtocolVersion);
    CHECK(parsed->id == job.id);
    CHECK(parsed->batch == job.batch);
    CHECK(parsed->op == job.op);
    CHECK(parsed->params == job.params);
    CHECK(parsed->threads == 4);
    CHECK(parsed->passes == 3);
    CHECK(parsed->run == 2);
    CHECK(parsed->input.bucket == "uploads");
    CHECK(parsed->input.key == "b-01/input.jpg");
    CHECK(parsed->output.bucket == "results");
    CHECK(parsed->output.key == "b-01/j-0001.jpg");
    CHECK(parsed->submitted_at == job.submitted_at);
    CHECK(parsed->path == "auto");
}

TEST_CASE("job message path round trip", "[worker]") {
    JobMessage job = sample_job();
    CHECK(to_json(job).find("\"path\"") == std::string::npos);  // auto is left out
    for (const char* path : {"stream", "whole-image"}) {
        job.path = path;
        const auto parsed = parse_job_message(to_json(job));
        REQUIRE(parsed.ok());
        CHECK(parsed->path == path);
    }
    job.path = "fastest";
    const auto rejected = parse_job_message(to_json(job));
    REQUIRE_FALSE(rejected.ok());
    CHECK(contains(rejected.error().message, "'path'"));
    CHECK(contains(rejected.error().message, "fastest"));
}

TEST_CASE("job event round trip", "[worker]") {
    JobEvent event;
    event.id = "j-0001";
    event.batch = "b-01";
    event.status = JobStatus::done;
    event.worker = "host/123/w0";
    event.timings = {0.25, 0.001, 0.012, 0.0042, 0.008, 0.0011, 0.03};
    event.width = 1920;
    event.height = 1080;
    event.threads = 6;
    event.redelivered = true;
    event.output = ObjectRef{"results", "b-01/j-0001.jpg"};
    event.at = at_millis(1'796'403'600'456);

    const auto parsed = parse_job_event(to_json(event));
    REQUIRE(parsed.ok());
    CHECK(parsed->status == JobStatus::done);
    CHECK(parsed->error.empty());
    CHECK(parsed->worker == "host/123/w0");
    CHECK(parsed->timings.queue_wait_seconds == 0.25);
    CHECK(parsed->timings.kernel_seconds == 0.0042);
    CHECK(parsed->timings.process_seconds == 0.03);
    CHECK(parsed->timings.path.empty());
    CHECK(parsed->width == 1920);
    CHECK(parsed->height == 1080);
    CHECK(parsed->threads == 6);
    CHECK(parsed->redelivered);
    REQUIRE(parsed->output.has_value());
    CHECK(parsed->output->key == "b-01/j-0001.jpg");
    CHECK(parsed->at == event.at);
}

TEST_CASE("job event timings name the path", "[worker]") {
    JobEvent event;
    event.id = "j-3";
    event.status = JobStatus::done;
    event.timings.path = "luma-stream";
    event.at = at_millis(1'796'403'600'456);
    const auto parsed = parse_job_event(to_json(event));
    REQUIRE(parsed.ok());
    CHECK(parsed->timings.path == "luma-stream");
}

TEST_CASE("failed event keeps its error", "[worker]") {
    JobEvent event;
    event.id = "j-2";
    event.status = JobStatus::failed;
    event.error = "decode failed: truncated JPEG \xff\xfe";
    event.at = at_millis(0);
    const auto parsed = parse_job_event(to_json(event));
    REQUIRE(parsed.ok());
    CHECK(parsed->status == JobStatus::failed);
    CHECK(contains(parsed->error, "decode failed: truncated JPEG"));
    CHECK_FALSE(parsed->output.has_value());
}

TEST_CASE("job status names", "[worker]") {
    for (auto status :
         {JobStatus::queued, JobStatus::processing, JobStatus::done, JobStatus::failed}) {
        CHECK(parse_job_status(to_string(status)) == status);
    }
    CHECK_FALSE(parse_job_status("DONE").has_value());
    CHECK_FALSE(parse_job_status("").has_value());
}

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds", "[worker]") {
    CHECK(format_timestamp(at_millis(0)) == "1970-01-01T00:00:00.000Z");
    CHECK(format_timestamp(at_millis(1'796'403'600'123)) == "2026-12-04T17:00:00.123Z");
    CHECK(parse_timestamp("2026-12-04T17:00:00.123Z") == at_millis(1'796'403'600'123));
    CHECK(parse_timestamp("2026-12-04T18:30:00.123+01:30") == at_millis(1'796'403'600'123));
    CHECK(parse_timestamp("2026-12-04t17:00:00z") == at_millis(1'796'403'600'000));
    CHECK(parse_timestamp("2024-02-29T00:00:00Z").has_value());
}

TEST_CASE("hostile timestamps are rejected", "[worker]") {
    for (const char* text :
         {"", "2026-12-04", "2026-12-04T17:00:00", "2026-13-04T17:00:00Z", "2026-02-30T00:00:00Z",
          "2023-02-29T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04T17:60:00Z",
          "2026-12-04T17:00:61Z", "2026-12-04T17:00:00.Z", "2026-12-04T17:00:00Zjunk",
          "2026-12-04T17:00:00+25:00", "2026-12-04 17:00:00Z", "+026-12-04T17:00:00Z",
          "2026-12-04T17:00:00.1234567890123456789Z"}) {
        INFO("timestamp " << text);
        CHECK_FALSE(parse_timestamp(text).has_value());
    }
}

TEST_CASE("job message optional fields default", "[worker]") {
    json value = sample_job_json();
    for (const char* field : {"batch", "params", "threads", "passes", "run", "submitted_at"}) {
        value.erase(field);
    }
    const auto parsed = parse_job_message(value.dump());
    REQUIRE(parsed.ok());
    CHECK(parsed->batch.empty());
    CHECK(parsed->params.empty());
    CHECK(parsed->threads == 1);
    CHECK(parsed->passes == 1);
    CHECK(parsed->run == 1);
}

TEST_CASE("job message missing fields are named", "[worker]") {
    for (const char* field : {"version", "id", "op", "input", "output"}) {
        json value = sample_job_json();
        value.erase(field);
        INFO("field " << field);
        CHECK(job_error(value) ==
              std::string{"job message is missing the required field '"} + field + "'");
    }
    json value = sample_job_json();
    value["input"].erase("key");
    CHECK(job_error(value) == "job message is missing the required field 'input.key'");
}

TEST_CASE("job message wrong types are named", "[worker]") {
    json value = sample_job_json();
    value["threads"] = "x";
    CHECK(job_error(value) == "job message field 'threads' must be an integer 1..1024, got \"x\"");

    value = sample_job_json();
    value["threads"] = 2.5;
    CHECK(contains(job_error(value), "'threads' must be an integer 1..1024, got 2.5"));

    value = sample_job_json();
    value["id"] = 17;
    CHECK(contains(job_error(value), "'id' must be a string of 1..128 bytes"));

    value = sample_job_json();
    value["input"] = "uploads/x.jpg";
    CHECK(contains(job_error(value), "'input' must be an object"));

    value = sample_job_json();
    value["params"] = json::array({1, 2});
    CHECK(contains(job_error(value), "'params' must be an object"));

    value = sample_job_json();
    value["params"]["nested"] = json::object();
    CHECK(contains(job_error(value), "'params.nested'"));

    value = sample_job_json();
    value["submitted_at"] = "yesterday";
    CHECK(contains(job_error(value), "'submitted_at' must be an RFC 3339 time"));
}

TEST_CASE("job message out of range values", "[worker]") {
    const json huge = json::parse("123456789012345678901234567890");
    for (const json& threads :
         {json(0), json(-1), json(1025), json(18446744073709551615ULL), huge}) {
        json value = sample_job_json();
        value["threads"] = threads;
        INFO("threads " << threads.dump());
        CHECK(contains(job_error(value), "'threads' must be an integer 1..1024"));
    }
    json value = sample_job_json();
    value["passes"] = 1e300;
    CHECK(contains(job_error(value), "'passes' must be an integer"));
}

TEST_CASE("job message ids reject odd characters", "[worker]") {
    for (const char* id : {"", "a b", "../etc", "line\nbreak", "semi;colon"}) {
        json value = sample_job_json();
        value["id"] = id;
        INFO("id " << id);
        CHECK(
            contains(job_error(value), "'id' must be a string of 1..128 bytes of [A-Za-z0-9._:-]"));
    }
    json value = sample_job_json();
    value["id"] = std::string(129, 'a');
    CHECK(contains(job_error(value), "'id' must be"));
}

TEST_CASE("long values are cut in errors", "[worker]") {
    json value = sample_job_json();
    value["op"] = std::string(10'000, 'x');
    const std::string error = job_error(value);
    CHECK(error.size() < 300);
    CHECK(contains(error, "..."));
}

TEST_CASE("newer protocol version is rejected", "[worker]") {
    json value = sample_job_json();
    value["version"] = kProtocolVersion + 1;
    value["threads"] = "renamed in version 2";
    const auto parsed = parse_job_message(value.dump());
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == Errc::unsupported_version);
    CHECK(contains(parsed.error().message, "protocol version 2"));
    CHECK(contains(parsed.error().message, "upgrade imgbus"));

    value["version"] = 0;
    CHECK(parse_job_message(value.dump()).error().code == Errc::invalid_message);
}

TEST_CASE("malformed JSON is rejected", "[worker]") {
    for (const std::string& text : std::vector<std::string>{
             "", "not json", "{", "{\"id\": }", "[1,2,3]", "\"just a string\"", "null", "42",
             "{\"id\":\"a\"} trailing", std::string("{\"id\":\"\xc3\x28\"}")}) {
        INFO("input " << text);
        const auto parsed = parse_job_message(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().code == Errc::invalid_message);
        CHECK(contains(parsed.error().message, "job message"));
    }
}

TEST_CASE("deeply nested JSON is rejected", "[worker]") {
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    const auto parsed = parse_job_message(deep);
    REQUIRE_FALSE(parsed.ok());
    CHECK(contains(parsed.error().message, "deeper than 16 levels"));

    const std::string nested_in_field =
        R"({"version": 1, "id": "j", "op": "grayscale", "params": )" + std::string(50, '[');
    CHECK(contains(parse_job_message(nested_in_field).error().message, "deeper than"));

    const std::string brackets_in_string = R"({"id": ")" + std::string(100, '[') + R"(\"["})";
    CHECK(contains(parse_job_message(brackets_in_string).error().message, "'version'"));

    const std::string huge = std::string(kMaxMessageBytes + 1, ' ');
    const auto too_long = parse_job_message(huge);
    REQUIRE_FALSE(too_long.ok());
    CHECK(contains(too_long.error().message, "over the limit"));
}

TEST_CASE("job event hostile fields", "[worker]") {
    JobEvent event;
    event.id = "j-1";
    event.status = JobStatus::done;
    event.at = at_millis(0);
    const json good = json::parse(to_json(event));

    json value = good;
    value["status"] = "finished";
    CHECK(contains(parse_job_event(value.dump()).error().message,
                   "'status' must be one of queued, processing, done, failed, got \"finished\""));

    value = good;
    value["timings"]["kernel_seconds"] = -1;
    CHECK(contains(parse_job_event(value.dump()).error().message, "'timings.kernel_seconds'"));

    value = good;
    value["redelivered"] = "yes";
    CHECK(contains(parse_job_event(value.dump()).error().message, "'redelivered' must be true"));

    value = good;
    value.erase("at");
    CHECK(parse_job_event(value.dump()).error().message ==
          "job event is missing the required field 'at'");

    value = good;
    value["width"] = -5;
    CHECK(contains(parse_job_event(value.dump()).error().message, "'width'"));
}
