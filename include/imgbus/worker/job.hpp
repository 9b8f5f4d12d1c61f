// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::worker {

enum class Errc {
    invalid_message = 1,  // not JSON, a missing field, a wrong type or a value out of range
    unsupported_version,  // written with a newer protocol version than this reader
};

const std::error_category& worker_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

// Version of the JSON job and event messages; a reader rejects a newer major version.
inline constexpr int kProtocolVersion = 1;
// Queue that carries JobMessages from the frontend to the workers.
inline constexpr std::string_view kJobQueue = "imgbus.jobs";
// Queue that carries JobEvents from the workers back to the frontend.
inline constexpr std::string_view kEventQueue = "imgbus.events";

struct ObjectRef {
    std::string bucket;
    std::string key;
};

// One step of a pipeline job: an operation and its parameters.
struct JobStep {
    std::string op;
    std::map<std::string, std::string> params;
};

// A job whose `op` is this runs its `steps` in order instead of one operation.
inline constexpr std::string_view kPipelineOp = "pipeline";
// The most steps a pipeline job may have.
inline constexpr std::size_t kMaxJobSteps = 16;

// One unit of work: run `op` on the input object with `threads` OpenMP threads and write the
// result to the output object. The output key is fixed by the frontend, so a redelivered job
// overwrites the same object instead of making a second one.
struct JobMessage {
    int version = kProtocolVersion;
    std::string id;
    std::string batch;
    std::string op = "grayscale";
    std::map<std::string, std::string> params;  // op parameters, validated by the worker
    // For op "pipeline": the steps, run in order on the decoded image; empty otherwise.
    std::vector<JobStep> steps;
    int threads = 1;
    int passes = 1;
    int run = 1;  // 1-based repetition index within the batch
    // "auto", "stream" or "whole-image" (imaging::PathChoice): which processing paths the job
    // allows. The web UI's thread sweeps send "whole-image" so that they time the OpenMP kernel.
    std::string path = "auto";
    ObjectRef input;
    ObjectRef output;
    std::chrono::system_clock::time_point submitted_at;
};

enum class JobStatus { queued, processing, done, failed };
std::string_view to_string(JobStatus status);
std::optional<JobStatus> parse_job_status(std::string_view text);

// Seconds spent in each step of a job; zero for a step that did not run.
struct JobTimings {
    double queue_wait_seconds = 0;  // published to taken by a worker
    double fetch_seconds = 0;       // input read from the store
    double decode_seconds = 0;
    double kernel_seconds = 0;  // the OpenMP operation, all passes
    double encode_seconds = 0;
    double store_seconds = 0;    // output written to the store
    double process_seconds = 0;  // taken by a worker to output stored
    // The path that ran: "whole-image", "stream" or "luma-stream" (imaging::KernelPath); empty
    // when the job failed before choosing. On the streaming paths decode and encode overlap, so
    // decode, kernel and encode are busy times whose sum can exceed process_seconds.
    std::string path;
};

// A change of a job's state, sent by the worker on the event queue.
struct JobEvent {
    int version = kProtocolVersion;
    std::string id;
    std::string batch;
    JobStatus status = JobStatus::processing;
    std::string error;   // set when status is failed
    std::string worker;  // id of the worker process and thread
    JobTimings timings;
    int width = 0;
    int height = 0;
    int threads = 1;
    bool redelivered = false;
    std::optional<ObjectRef> output;
    std::chrono::system_clock::time_point at;
};

std::string to_json(const JobMessage& job);
std::string to_json(const JobEvent& event);
Result<JobMessage> parse_job_message(std::string_view json);
Result<JobEvent> parse_job_event(std::string_view json);

// Messages longer than this are rejected before parsing. A job message is well under 4 KiB.
inline constexpr std::size_t kMaxMessageBytes = 256 * 1024;

// RFC 3339 in UTC with milliseconds, such as "2026-12-04T17:00:00.123Z".
std::string format_timestamp(std::chrono::system_clock::time_point time);
// Reads an RFC 3339 date-time with a "Z" or "+hh:mm" offset and up to 9 fraction digits.
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

}  // namespace imgbus::worker

template <>
struct std::is_error_code_enum<imgbus::worker::Errc> : std::true_type {};
