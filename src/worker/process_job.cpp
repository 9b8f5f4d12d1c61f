// SPDX-License-Identifier: MIT
#include <algorithm>
#include <chrono>
#include <exception>
#include <new>
#include <optional>

#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/operation.hpp"
#include "imgbus/imaging/stream.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "job_runner.hpp"

namespace imgbus::worker {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The state of one job as it moves through its stages.
class JobRun {
  public:
    JobRun(const JobMessage& job, store::ObjectStore& store, const WorkerOptions& options,
           metrics::Metrics* metrics)
        : job_(job), store_(store), options_(options), metrics_(metrics) {}

    detail::JobOutcome run();

  private:
    bool prepare_operation();
    bool validate_steps();
    bool fetch();
    bool convert();
    bool stream();
    bool decode();
    bool apply_kernel();
    bool encode();
    bool store_output();

    bool fail(const std::string& message);
    // Records a finished stage in the event timings and, for a known operation, in the metrics.
    void record_stage(double& field, Clock::time_point start);
    void observe_stage(const char* stage, double seconds);
    detail::JobOutcome finish();

    const JobMessage& job_;
    store::ObjectStore& store_;
    const WorkerOptions& options_;
    metrics::Metrics* metrics_;

    std::string stage_ = "operation";
    detail::JobOutcome outcome_;
    std::vector<imaging::ValidatedStep> steps_;
    std::string op_label_;  // metrics label; empty until the operation is known
    int threads_ = 1;
    std::vector<std::uint8_t> bytes_;
    imaging::Format format_ = imaging::Format::jpeg;
    imaging::KernelPath path_ = imaging::KernelPath::whole_image;
    imaging::Image image_;
    Clock::time_point started_ = Clock::now();
};

detail::JobOutcome JobRun::run() {
    auto& event = outcome_.event;
    event.id = job_.id;
    event.batch = job_.batch;
    try {
        const bool done = prepare_operation() && fetch() && convert() && store_output();
        if (done) {
            event.status = JobStatus::done;
            event.output = job_.output;
        }
    } catch (const std::bad_alloc&) {
        stage_ = "internal";
        fail("out of memory");
    } catch (const std::exception& e) {
        const std::string during = stage_;
        stage_ = "internal";
        fail(std::string{"unexpected error during "} + during + ": " + e.what());
    }
    return finish();
}

bool JobRun::fail(const std::string& message) {
    outcome_.event.status = JobStatus::failed;
    const std::string prefix = stage_ == "internal" ? "internal error: " : stage_ + " failed: ";
    outcome_.event.error = prefix + message;
    outcome_.failure_reason = stage_;
    return false;
}

void JobRun::record_stage(double& field, Clock::time_point start) {
    field = seconds_since(start);
    observe_stage(stage_.c_str(), field);
}

void JobRun::observe_stage(const char* stage, double seconds) {
    if (metrics_ != nullptr && !op_label_.empty()) {
        metrics_->job_stage_seconds(op_label_, stage).Observe(seconds);
    }
}

detail::JobOutcome JobRun::finish() {
    auto& event = outcome_.event;
    event.threads = threads_;
    event.timings.process_seconds = seconds_since(started_);
    event.at = std::chrono::system_clock::now();
    outcome_.op_label = op_label_;
    // Drop the large buffers before the outcome is copied out.
    bytes_ = {};
    image_ = {};
    return std::move(outcome_);
}

bool JobRun::prepare_operation() {
    stage_ = "operation";
    threads_ = std::clamp(job_.threads, 1, std::max(1, options_.max_threads_per_job));
    if (job_.op != kPipelineOp && imaging::OperationRegistry::global().find(job_.op) == nullptr) {
        return fail("unknown operation '" + job_.op + "'; GET /api/operations lists them");
    }
    if (job_.passes < 1 || job_.passes > options_.max_passes_per_job) {
        return fail("passes " + std::to_string(job_.passes) + " is outside 1.." +
                    std::to_string(options_.max_passes_per_job) +
                    ", the limit of this worker; ask for fewer passes");
    }
    return validate_steps();
}

// A single-operation job is a pipeline of one step; its errors keep the plain wording.
bool JobRun::validate_steps() {
    const auto& registry = imaging::OperationRegistry::global();
    if (job_.op != kPipelineOp) {
        auto params = registry.validate(job_.op, job_.params);
        if (!params) {
            return fail(params.error().message);
        }
        steps_.push_back({registry.find(job_.op), std::move(*params)});
        op_label_ = job_.op;
        return true;
    }
    std::vector<imaging::PipelineStep> steps;
    for (const auto& step : job_.steps) {
        steps.push_back({step.op, step.params});
    }
    auto validated = registry.validate_pipeline(steps);
    if (!validated) {
        return fail(validated.error().message);
    }
    steps_ = std::move(*validated);
    op_label_ = job_.op;
    return true;
}

bool JobRun::fetch() {
    stage_ = "fetch";
    const auto start = Clock::now();
    auto object = store_.get_object(job_.input.bucket, job_.input.key);
    if (!object) {
        outcome_.retryable = object.error().code == store::Errc::io_error;
        return fail(object.error().message);
    }
    bytes_ = std::move(object->data);
    record_stage(outcome_.event.timings.fetch_seconds, start);
    return true;
}

// Picks the path from the header: a streaming one when the job allows it, else decode, kernel
// and encode of the whole image.
bool JobRun::convert() {
    stage_ = "decode";
    const auto info = imaging::probe(bytes_, options_.decode_limits);
    if (!info) {
        return fail(info.error().message);
    }
    format_ = info->format;
    const auto choice = imaging::parse_path_choice(job_.path);
    path_ = imaging::choose_path(choice.ok() ? *choice : imaging::PathChoice::automatic, steps_,
                                 job_.passes, *info, format_);
    outcome_.event.timings.path = imaging::kernel_path_name(path_);
    if (path_ != imaging::KernelPath::whole_image) {
        return stream();
    }
    return decode() && apply_kernel() && encode();
}

bool JobRun::stream() {
    imaging::StreamOptions stream_options;
    stream_options.jpeg_quality = options_.encode_options.jpeg_quality;
    stream_options.luma = path_ == imaging::KernelPath::luma_stream;
    auto result = imaging::stream_grayscale_jpeg(bytes_, options_.decode_limits, stream_options);
    if (!result) {
        stage_ = result.error().code == imaging::Errc::encode_failed ? "encode" : "decode";
        return fail(result.error().message);
    }
    auto& timings = outcome_.event.timings;
    timings.path = imaging::kernel_path_name(result->path);
    timings.decode_seconds = result->decode_seconds;
    timings.kernel_seconds = result->kernel_seconds;
    timings.encode_seconds = result->encode_seconds;
    observe_stage("decode", timings.decode_seconds);
    observe_stage("kernel", timings.kernel_seconds);
    observe_stage("encode", timings.encode_seconds);
    if (metrics_ != nullptr) {
        // Every grayscale job counts, so luma-stream records 0 s of kernel.
        metrics_->operation_seconds("grayscale").Observe(timings.kernel_seconds);
        metrics_->grayscale_process_seconds().Observe(timings.kernel_seconds);
    }
    outcome_.event.width = result->width;
    outcome_.event.height = result->height;
    bytes_ = std::move(result->bytes);
    return true;
}

bool JobRun::decode() {
    stage_ = "decode";
    const auto start = Clock::now();
    auto image = imaging::decode(bytes_, options_.decode_limits);
    if (!image) {
        return fail(image.error().message);
    }
    image_ = std::move(*image);
    bytes_ = {};
    record_stage(outcome_.event.timings.decode_seconds, start);
    return true;
}

bool JobRun::apply_kernel() {
    stage_ = "kernel";
    const auto start = Clock::now();
    imaging::KernelContext context{.threads = threads_,
                                   .passes = job_.passes,
                                   .max_output_pixels = options_.decode_limits.max_pixels};
    auto output = imaging::run_pipeline(
        steps_, std::move(image_), context, [this](const imaging::Operation& op, double seconds) {
            if (metrics_ != nullptr) {
                metrics_->operation_seconds(op.name).Observe(seconds);
            }
        });
    if (!output) {
        return fail(output.error().message);
    }
    image_ = std::move(*output);
    record_stage(outcome_.event.timings.kernel_seconds, start);
    if (metrics_ != nullptr && job_.op == "grayscale") {
        metrics_->grayscale_process_seconds().Observe(outcome_.event.timings.kernel_seconds);
    }
    outcome_.event.width = image_.width;
    outcome_.event.height = image_.height;
    return true;
}

bool JobRun::encode() {
    stage_ = "encode";
    const auto start = Clock::now();
    auto encoded = imaging::encode(image_, format_, options_.encode_options);
    if (!encoded) {
        return fail(encoded.error().message);
    }
    bytes_ = std::move(*encoded);
    image_ = {};
    record_stage(outcome_.event.timings.encode_seconds, start);
    return true;
}

bool JobRun::store_output() {
    stage_ = "store";
    const auto start = Clock::now();
    store::PutOptions put;
    put.content_type = std::string{imaging::format_mime_type(format_)};
    put.metadata = {{"job-id", job_.id}, {"op", job_.op}, {"threads", std::to_string(threads_)}};
    // The result's ETag is not read before the job is done, so the store computes it later.
    put.defer_etag = true;
    const auto stored = store_.put_object(job_.output.bucket, job_.output.key, bytes_, put);
    if (!stored) {
        outcome_.retryable = stored.error().code == store::Errc::io_error;
        return fail(stored.error().message);
    }
    record_stage(outcome_.event.timings.store_seconds, start);
    return true;
}

}  // namespace

namespace detail {

JobOutcome run_job(const JobMessage& job, store::ObjectStore& store, const WorkerOptions& options,
                   metrics::Metrics* metrics) {
    try {
        return JobRun{job, store, options, metrics}.run();
    } catch (...) {
        // Reached when even the failure event cannot be built, such as out of memory while
        // copying the job id. The strings below fit in std::string's small buffer, so nothing
        // here allocates.
        JobOutcome outcome;
        outcome.event.status = JobStatus::failed;
        outcome.event.error = "out of memory";
        outcome.failure_reason = "internal";
        return outcome;
    }
}

}  // namespace detail

JobEvent process_job(const JobMessage& job, store::ObjectStore& store, const WorkerOptions& options,
                     metrics::Metrics* metrics) {
    return detail::run_job(job, store, options, metrics).event;
}

}  // namespace imgbus::worker
