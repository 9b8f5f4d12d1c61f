// SPDX-License-Identifier: MIT
#include "delivery_processor.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "imgbus/imaging/operation.hpp"
#include "imgbus/log.hpp"
#include "job_runner.hpp"
#include "json_reader.hpp"

namespace imgbus::worker::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPublishAttempts = 5;
constexpr int kWarningsPerSecond = 10;
constexpr std::chrono::milliseconds kFirstPublishBackoff{5};

// Keeps imgbus_workers_busy up while a job runs.
class BusyGuard {
  public:
    explicit BusyGuard(prometheus::Gauge& gauge) : gauge_(gauge) { gauge_.Increment(); }
    ~BusyGuard() { gauge_.Decrement(); }
    BusyGuard(const BusyGuard&) = delete;
    BusyGuard& operator=(const BusyGuard&) = delete;

  private:
    prometheus::Gauge& gauge_;
};

// Observes grayscale_startup_seconds once per registry: the first message any worker takes.
void observe_startup(metrics::Metrics& metrics, std::chrono::steady_clock::time_point start) {
    static std::mutex mutex;
    std::lock_guard lock{mutex};
    auto& histogram = metrics.grayscale_startup_seconds();
    if (histogram.Collect().histogram.sample_count == 0) {
        histogram.Observe(std::chrono::duration<double>(Clock::now() - start).count());
    }
}

// Reads the id and batch of a message that failed to parse, so that its job can still be
// reported failed. Returns nothing when even the id is unusable.
std::optional<JobEvent> failed_event_for(const std::string& body, const Error& error) {
    auto object = parse_object(body, "job message");
    if (!object) {
        return std::nullopt;
    }
    FieldReader reader{*object, "job message"};
    JobEvent event;
    event.id = reader.string("id", Presence::required, {1, 128, true});
    event.batch = reader.string("batch", Presence::optional, {0, 128, true});
    if (reader.failed()) {
        return std::nullopt;
    }
    event.status = JobStatus::failed;
    event.error = "message failed: " + error.message;
    event.at = std::chrono::system_clock::now();
    return event;
}

}  // namespace

DeliveryProcessor::DeliveryProcessor(broker::Broker& broker, store::ObjectStore& store,
                                     metrics::Metrics& metrics, const WorkerOptions& options,
                                     std::string worker_name)
    : broker_(broker),
      store_(store),
      metrics_(metrics),
      options_(options),
      worker_name_(std::move(worker_name)),
      log_(module_logger("worker")) {}

void DeliveryProcessor::handle(const broker::Delivery& delivery) {
    try {
        process(delivery);
    } catch (const std::exception& e) {
        // process() settles every delivery itself; this is the last resort for a failure outside
        // process_job, such as running out of memory while building an event.
        log_->error("{}: delivery tag {} failed outside the job stages, so it is rejected: {}",
                    worker_name_, delivery.delivery_tag, e.what());
        metrics_.grayscale_failures_total("internal").Increment();
        (void)broker_.nack(delivery.delivery_tag, false);
    }
}

void DeliveryProcessor::process(const broker::Delivery& delivery) {
    JobTimings taken_timings;
    observe_taken(delivery, taken_timings);
    const auto taken = Clock::now();

    auto job = parse_job_message(delivery.message.body);
    if (!job) {
        reject_bad_message(delivery, job.error());
        return;
    }
    observe_queue_wait(*job, taken_timings);

    BusyGuard busy{metrics_.workers_busy()};
    JobEvent processing;
    processing.id = job->id;
    processing.batch = job->batch;
    processing.status = JobStatus::processing;
    processing.worker = worker_name_;
    processing.threads = std::clamp(job->threads, 1, std::max(1, options_.max_threads_per_job));
    processing.redelivered = delivery.redelivered;
    processing.timings.queue_wait_seconds = taken_timings.queue_wait_seconds;
    processing.at = std::chrono::system_clock::now();
    // Job records keep only the created and the final state, so a crash that loses this event
    // loses nothing. Sent transient, it starts the job without waiting for the journal's fsync.
    publish_event(processing, delivery.delivery_tag, false);

    auto outcome = run_job(*job, store_, options_, &metrics_);
    const bool grayscale = job->op == "grayscale";
    auto& event = outcome.event;
    event.worker = worker_name_;
    event.redelivered = delivery.redelivered;
    event.timings.queue_wait_seconds = taken_timings.queue_wait_seconds;
    event.timings.process_seconds = std::chrono::duration<double>(Clock::now() - taken).count();
    if (event.status == JobStatus::failed && outcome.retryable) {
        const int attempt = attempt_of(delivery.message);
        if (attempt < options_.max_attempts) {
            retry_later(delivery, event, attempt);
            return;
        }
        dead_letter(delivery, event, attempt);
    }
    publish_event(event, delivery.delivery_tag);
    settle(delivery, event);
    if (event.status == JobStatus::failed) {
        count_failure(outcome, grayscale);
    }
}

void DeliveryProcessor::count_failure(const JobOutcome& outcome, bool grayscale) {
    const auto& op = outcome.op_label.empty() ? std::string{"unknown"} : outcome.op_label;
    metrics_.job_failures_total(op, outcome.failure_reason).Increment();
    if (grayscale) {
        metrics_.grayscale_failures_total(outcome.failure_reason).Increment();
    }
}

void DeliveryProcessor::observe_taken(const broker::Delivery& delivery, JobTimings& timings) {
    observe_startup(metrics_, options_.process_start);
    const auto published = delivery.message.published_at;
    if (published.time_since_epoch().count() == 0) {
        return;  // a broker that does not stamp messages; there is no wait to measure
    }
    const auto waited = std::chrono::system_clock::now() - published;
    timings.queue_wait_seconds = std::max(0.0, std::chrono::duration<double>(waited).count());
    timings_known_ = true;
}

void DeliveryProcessor::observe_queue_wait(const JobMessage& job, JobTimings& timings) {
    // A broker reached over AMQP may not pass the publish time on (imgbus serve's listener does
    // not), so the frontend's submitted_at stands in for it.
    if (!timings_known_ && job.submitted_at.time_since_epoch().count() != 0) {
        const auto waited = std::chrono::system_clock::now() - job.submitted_at;
        timings.queue_wait_seconds = std::max(0.0, std::chrono::duration<double>(waited).count());
        timings_known_ = true;
    }
    if (!timings_known_) {
        return;
    }
    timings_known_ = false;
    // Only known operations get a series, so a made-up op cannot create new ones.
    const bool known =
        job.op == kPipelineOp || imaging::OperationRegistry::global().find(job.op) != nullptr;
    if (known) {
        metrics_.job_queue_wait_seconds(job.op).Observe(timings.queue_wait_seconds);
    }
    if (job.op == "grayscale") {
        metrics_.grayscale_queue_wait_seconds().Observe(timings.queue_wait_seconds);
    }
}

bool DeliveryProcessor::allow_warning() {
    const auto now = Clock::now();
    if (now - warning_window_start_ >= std::chrono::seconds{1}) {
        if (suppressed_warnings_ > 0) {
            log_->warn("{}: {} job warnings were suppressed since the last one logged",
                       worker_name_, suppressed_warnings_);
        }
        warning_window_start_ = now;
        warnings_in_window_ = 0;
        suppressed_warnings_ = 0;
    }
    if (warnings_in_window_ < kWarningsPerSecond) {
        ++warnings_in_window_;
        return true;
    }
    ++suppressed_warnings_;
    return false;
}

void DeliveryProcessor::reject_bad_message(const broker::Delivery& delivery, const Error& error) {
    if (allow_warning()) {
        log_->warn("{}: rejecting malformed job message, delivery tag {}: {}", worker_name_,
                   delivery.delivery_tag, error.message);
    }
    metrics_.grayscale_failures_total("bad_message").Increment();
    metrics_.job_failures_total("unknown", "bad_message").Increment();
    if (auto event = failed_event_for(delivery.message.body, error)) {
        event->worker = worker_name_;
        event->redelivered = delivery.redelivered;
        publish_event(*event, delivery.delivery_tag);
    }
    if (auto nacked = broker_.nack(delivery.delivery_tag, false); !nacked) {
        log_->error("{}: nack of delivery tag {} failed: {}", worker_name_, delivery.delivery_tag,
                    nacked.error().message);
    }
}

bool DeliveryProcessor::publish_event(const JobEvent& event, std::uint64_t delivery_tag,
                                      bool persistent) {
    broker::Message message;
    message.persistent = persistent;
    message.body = to_json(event);
    message.message_id = event.id + ":" + std::string{to_string(event.status)};
    auto backoff = kFirstPublishBackoff;
    for (int attempt = 1;; ++attempt) {
        auto published = broker_.publish(options_.event_queue, message);
        if (published) {
            return true;
        }
        if (attempt == kPublishAttempts) {
            log_->error(
                "{}: giving up publishing the {} event of job {} (delivery tag {}) to {} "
                "after {} attempts: {}",
                worker_name_, to_string(event.status), event.id, delivery_tag, options_.event_queue,
                attempt, published.error().message);
            return false;
        }
        log_->debug("{}: publishing the {} event of job {} failed, retrying in {} ms: {}",
                    worker_name_, to_string(event.status), event.id, backoff.count(),
                    published.error().message);
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
    }
}

void DeliveryProcessor::settle(const broker::Delivery& delivery, const JobEvent& event) {
    const auto tag = delivery.delivery_tag;
    if (event.status == JobStatus::done) {
        log_->debug("{}: job {} done in {:.3f} s (kernel {:.4f} s, {} threads), delivery tag {}",
                    worker_name_, event.id, event.timings.process_seconds,
                    event.timings.kernel_seconds, event.threads, tag);
        if (auto acked = broker_.ack(tag); !acked) {
            log_->error("{}: ack of job {} (delivery tag {}) failed: {}", worker_name_, event.id,
                        tag, acked.error().message);
        }
        return;
    }

    if (allow_warning()) {
        log_->warn("{}: job {} failed, delivery tag {}: {}", worker_name_, event.id, tag,
                   event.error);
    }
    if (auto nacked = broker_.nack(tag, false); !nacked) {
        log_->error("{}: nack of job {} (delivery tag {}) failed: {}", worker_name_, event.id, tag,
                    nacked.error().message);
    }
}

}  // namespace imgbus::worker::detail
