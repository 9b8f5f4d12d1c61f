// SPDX-License-Identifier: MIT
#include "imgbus/worker/job.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "imgbus/imaging/stream.hpp"
#include "json_reader.hpp"

namespace imgbus::worker {
namespace {

using detail::FieldReader;
using detail::Presence;
using detail::StringRule;
using nlohmann::json;

constexpr std::array<std::pair<JobStatus, std::string_view>, 4> kStatusNames = {{
    {JobStatus::queued, "queued"},
    {JobStatus::processing, "processing"},
    {JobStatus::done, "done"},
    {JobStatus::failed, "failed"},
}};

constexpr int kMaxThreads = 1024;
constexpr int kMaxPasses = 1'000'000;
constexpr int kMaxRun = 1'000'000;
constexpr int kMaxDimension = 1'000'000;
constexpr StringRule kIdRule{.min_bytes = 1, .max_bytes = 128, .identifier = true};
constexpr StringRule kBatchRule{.min_bytes = 0, .max_bytes = 128, .identifier = true};
constexpr StringRule kOpRule{.min_bytes = 1, .max_bytes = 64, .identifier = true};
constexpr StringRule kTextRule{.min_bytes = 0, .max_bytes = 8192};

json ref_to_json(const ObjectRef& ref) { return {{"bucket", ref.bucket}, {"key", ref.key}}; }

std::string dump(const json& value) {
    // Invalid UTF-8 in a string (from an image library's message, say) becomes U+FFFD instead of
    // throwing.
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json stage_seconds_to_json(const JobTimings& timings) {
    return {
        {"queue_wait_seconds", timings.queue_wait_seconds},
        {"fetch_seconds", timings.fetch_seconds},
        {"decode_seconds", timings.decode_seconds},
        {"kernel_seconds", timings.kernel_seconds},
        {"encode_seconds", timings.encode_seconds},
        {"store_seconds", timings.store_seconds},
        {"process_seconds", timings.process_seconds},
    };
}

json timings_to_json(const JobTimings& timings) {
    json value = stage_seconds_to_json(timings);
    if (!timings.path.empty()) {
        value["path"] = timings.path;
    }
    return value;
}

JobTimings read_timings(FieldReader& reader) {
    JobTimings timings;
    const json* object = reader.object("timings");
    if (object == nullptr) {
        return timings;
    }
    FieldReader nested{*object, "job event", "timings."};
    timings.queue_wait_seconds = nested.seconds("queue_wait_seconds");
    timings.fetch_seconds = nested.seconds("fetch_seconds");
    timings.decode_seconds = nested.seconds("decode_seconds");
    timings.kernel_seconds = nested.seconds("kernel_seconds");
    timings.encode_seconds = nested.seconds("encode_seconds");
    timings.store_seconds = nested.seconds("store_seconds");
    timings.process_seconds = nested.seconds("process_seconds");
    timings.path = nested.string("path", Presence::optional, kOpRule);
    if (nested.failed()) {
        reader.fail(Errc::invalid_message, nested.error().message);
    }
    return timings;
}

json steps_to_json(const std::vector<JobStep>& steps) {
    json list = json::array();
    for (const auto& step : steps) {
        list.push_back({{"op", step.op}, {"params", step.params}});
    }
    return list;
}

// The optional "steps" list: required and non-empty for op "pipeline", absent otherwise.
std::vector<JobStep> read_steps(FieldReader& reader, const json& object, const std::string& op) {
    std::vector<JobStep> steps;
    const auto found = object.find("steps");
    const bool pipeline = op == kPipelineOp;
    if (found == object.end() || found->is_null()) {
        if (pipeline) {
            reader.fail(Errc::invalid_message,
                        "job message with op 'pipeline' needs a 'steps' list of 1 to " +
                            std::to_string(kMaxJobSteps) + " steps");
        }
        return steps;
    }
    if (!found->is_array() || found->empty() || found->size() > kMaxJobSteps || !pipeline) {
        reader.fail(Errc::invalid_message,
                    "job message field 'steps' must be a list of 1 to " +
                        std::to_string(kMaxJobSteps) + " objects, with op 'pipeline', got " +
                        detail::describe_value(*found) + " with op '" + op + "'");
        return steps;
    }
    for (std::size_t i = 0; i < found->size() && !reader.failed(); ++i) {
        const auto& item = (*found)[i];
        if (!item.is_object()) {
            reader.fail(Errc::invalid_message, "job message field 'steps[" + std::to_string(i) +
                                                   "]' must be an object, got " +
                                                   detail::describe_value(item));
            break;
        }
        FieldReader nested{item, "job message", "steps[" + std::to_string(i) + "]."};
        JobStep step;
        step.op = nested.string("op", Presence::required, kOpRule);
        step.params = nested.params("params");
        if (nested.failed()) {
            reader.fail(Errc::invalid_message, nested.error().message);
            break;
        }
        steps.push_back(std::move(step));
    }
    return steps;
}

JobStatus read_status(FieldReader& reader, const json& object) {
    const std::string text = reader.string("status", Presence::required, kOpRule);
    if (reader.failed()) {
        return JobStatus::failed;
    }
    const auto status = parse_job_status(text);
    if (!status) {
        reader.fail(Errc::invalid_message,
                    "job event field 'status' must be one of queued, processing, done, failed, "
                    "got " +
                        detail::describe_value(object.at("status")));
        return JobStatus::failed;
    }
    return *status;
}

// The optional "path" of a job message: auto when absent.
std::string read_path(FieldReader& reader) {
    std::string path = reader.string("path", Presence::optional, kOpRule);
    if (reader.failed() || path.empty()) {
        return "auto";
    }
    if (!imaging::parse_path_choice(path)) {
        reader.fail(Errc::invalid_message,
                    "job message field 'path' must be auto, stream or "
                    "whole-image, got '" +
                        path + "'");
    }
    return path;
}

}  // namespace

std::string_view to_string(JobStatus status) {
    for (const auto& [value, name] : kStatusNames) {
        if (value == status) {
            return name;
        }
    }
    return "unknown";
}

std::optional<JobStatus> parse_job_status(std::string_view text) {
    for (const auto& [value, name] : kStatusNames) {
        if (name == text) {
            return value;
        }
    }
    return std::nullopt;
}

std::string to_json(const JobMessage& job) {
    json value = {
        {"version", job.version},
        {"id", job.id},
        {"batch", job.batch},
        {"op", job.op},
        {"params", job.params},
        {"threads", job.threads},
        {"passes", job.passes},
        {"run", job.run},
        {"input", ref_to_json(job.input)},
        {"output", ref_to_json(job.output)},
        {"submitted_at", format_timestamp(job.submitted_at)},
    };
    if (!job.steps.empty()) {
        value["steps"] = steps_to_json(job.steps);
    }
    if (job.path != "auto") {
        value["path"] = job.path;
    }
    return dump(value);
}

std::string to_json(const JobEvent& event) {
    json value = {
        {"version", event.version},
        {"id", event.id},
        {"batch", event.batch},
        {"status", to_string(event.status)},
        {"error", event.error},
        {"worker", event.worker},
        {"timings", timings_to_json(event.timings)},
        {"width", event.width},
        {"height", event.height},
        {"threads", event.threads},
        {"redelivered", event.redelivered},
        {"at", format_timestamp(event.at)},
    };
    if (event.output) {
        value["output"] = ref_to_json(*event.output);
    }
    return dump(value);
}

Result<JobMessage> parse_job_message(std::string_view text) {
    auto parsed = detail::parse_object(text, "job message");
    if (!parsed) {
        return parsed.error();
    }
    FieldReader reader{*parsed, "job message"};
    JobMessage job;
    job.version = reader.version();
    job.id = reader.string("id", Presence::required, kIdRule);
    job.batch = reader.string("batch", Presence::optional, kBatchRule);
    job.op = reader.string("op", Presence::required, kOpRule);
    job.params = reader.params("params");
    if (!reader.failed()) {
        job.steps = read_steps(reader, *parsed, job.op);
    }
    job.threads =
        static_cast<int>(reader.integer("threads", Presence::optional, 1, kMaxThreads, 1));
    job.passes = static_cast<int>(reader.integer("passes", Presence::optional, 1, kMaxPasses, 1));
    job.run = static_cast<int>(reader.integer("run", Presence::optional, 1, kMaxRun, 1));
    const auto input = reader.object_ref("input", Presence::required);
    const auto output = reader.object_ref("output", Presence::required);
    job.submitted_at = reader.timestamp("submitted_at", Presence::optional);
    job.path = read_path(reader);
    if (reader.failed()) {
        return reader.error();
    }
    job.input = *input;
    job.output = *output;
    return job;
}

Result<JobEvent> parse_job_event(std::string_view text) {
    auto parsed = detail::parse_object(text, "job event");
    if (!parsed) {
        return parsed.error();
    }
    FieldReader reader{*parsed, "job event"};
    JobEvent event;
    event.version = reader.version();
    event.id = reader.string("id", Presence::required, kIdRule);
    event.batch = reader.string("batch", Presence::optional, kBatchRule);
    event.status = read_status(reader, *parsed);
    event.error = reader.string("error", Presence::optional, kTextRule);
    event.worker = reader.string("worker", Presence::optional, {.max_bytes = 256});
    event.timings = read_timings(reader);
    event.width =
        static_cast<int>(reader.integer("width", Presence::optional, 0, kMaxDimension, 0));
    event.height =
        static_cast<int>(reader.integer("height", Presence::optional, 0, kMaxDimension, 0));
    event.threads =
        static_cast<int>(reader.integer("threads", Presence::optional, 1, kMaxThreads, 1));
    event.redelivered = reader.boolean("redelivered", false);
    event.output = reader.object_ref("output", Presence::optional);
    event.at = reader.timestamp("at", Presence::required);
    if (reader.failed()) {
        return reader.error();
    }
    return event;
}

}  // namespace imgbus::worker
