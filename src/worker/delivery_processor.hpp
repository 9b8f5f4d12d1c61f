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
// without requeue (failed or malformed). Records the worker metrics. Catches every
// std::exception, so that each delivery is settled.
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
    void observe_queue_wait(const JobMessage& job, const JobTimings& timings);
    // Counts a failed job by its op and, for grayscale jobs, in grayscale_failures_total.
    void count_failure(const JobOutcome& outcome, bool grayscale);
    // Publishes with a short back-off on failure, a bounded number of times; logs when it gives up.
    bool publish_event(const JobEvent& event, std::uint64_t delivery_tag);
    void settle(const broker::Delivery& delivery, const JobEvent& event);
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
