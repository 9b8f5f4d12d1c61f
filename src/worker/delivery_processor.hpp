// SPDX-License-Identifier: MIT
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <string>

#include "imgbus/worker/worker_pool.hpp"
#include "job_runner.hpp"

namespace imgbus::worker::detail {

// Handles one delivery of the job queue on a worker thread: parses the job, publishes the
// "processing" event, runs the job, publishes the final event and then acks (done) or nacks
// without requeue (failed or malformed). A job that failed because the store was unreachable is
// published again with the header kAttemptHeader raised by one, and the delivery acked, until
// it has had max_attempts tries; the last failure copies it to the dead-letter queue. Records the
// worker metrics. Catches every std::exception, so that each delivery is settled. Message header
// counting a job's tries; absent on the first. Counted by the worker itself, because RabbitMQ's
// classic queues do not count redeliveries.
inline constexpr const char* kAttemptHeader = "imgbus-attempt";
// Header of a dead-lettered job message: the error of its last try.
inline constexpr const char* kErrorHeader = "imgbus-error";

// The try a job message is on: its kAttemptHeader, or 1 without one.
int attempt_of(const broker::Message& message);

class DeliveryProcessor {
  public:
    DeliveryProcessor(broker::Broker& broker, store::ObjectStore& store, metrics::Metrics& metrics,
                      const WorkerOptions& options, std::string worker_name);

    void handle(const broker::Delivery& delivery);

  private:
    void process(const broker::Delivery& delivery);
    void reject_bad_message(const broker::Delivery& delivery, const Error& error);
    // Measures the queue wait; observe_queue_wait records it once the job's op is known.
    void observe_taken(const broker::Delivery& delivery, JobTimings& timings);
    void observe_queue_wait(const JobMessage& job, JobTimings& timings);
    // Counts a failed job by its op and, for grayscale jobs, in grayscale_failures_total.
    void count_failure(const JobOutcome& outcome, bool grayscale);
    // Publishes with a short back-off on failure, a bounded number of times; logs when it gives up.
    bool publish_event(const JobEvent& event, std::uint64_t delivery_tag, bool persistent = true);
    void settle(const broker::Delivery& delivery, const JobEvent& event);
    // delivery_retry.cpp: a job whose store failed goes back to the job queue with its attempt
    // count raised, after a pause, until options_.max_attempts; then to the dead-letter queue.
    void retry_later(const broker::Delivery& delivery, const JobEvent& event, int attempt);
    void dead_letter(const broker::Delivery& delivery, JobEvent& event, int attempt);
    // Uploads decide how many jobs fail, so warnings about them are limited per second.
    bool allow_warning();

    broker::Broker& broker_;
    store::ObjectStore& store_;
    metrics::Metrics& metrics_;
    const WorkerOptions& options_;
    std::string worker_name_;
    std::shared_ptr<spdlog::logger> log_;
    std::chrono::steady_clock::time_point warning_window_start_;
    int warnings_in_window_ = 0;
    int suppressed_warnings_ = 0;
    bool timings_known_ = false;  // observe_taken measured a wait not yet recorded
};

}  // namespace imgbus::worker::detail
