// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "imgbus/broker/broker.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/store/object_store.hpp"
#include "imgbus/worker/job.hpp"
#include "imgbus/worker/queues.hpp"

namespace imgbus::worker {

struct WorkerOptions {
    int workers = 1;               // consumer threads; 0 runs none
    std::uint32_t prefetch = 1;    // unacked jobs each worker may hold
    int max_threads_per_job = 64;  // a job asking for more is clamped to this
    int max_passes_per_job = 100;
    imaging::DecodeLimits decode_limits;
    imaging::EncodeOptions encode_options;
    std::string job_queue{kJobQueue};
    std::string event_queue{kEventQueue};
    std::string dead_letter_queue{kDeadLetterQueue};
    std::size_t job_queue_max_length = kDefaultJobQueueLength;  // declared limit of job_queue
    // Tries of a job whose failure may pass (the store unreachable) before it is dead-lettered.
    int max_attempts = 3;
    // Process start, for grayscale_startup_seconds (time to the first processed message).
    std::chrono::steady_clock::time_point process_start = std::chrono::steady_clock::now();
};

// Runs one job end to end: fetch, decode, operation, encode, store. Never throws; a failure comes
// back as an event with status failed and the reason.
JobEvent process_job(const JobMessage& job, store::ObjectStore& store, const WorkerOptions& options,
                     metrics::Metrics* metrics = nullptr);

// Worker threads that consume the job queue. Life of a job here: delivered (unacked) → a
// "processing" event → process_job → a "done" event and ack, or a "failed" event and a nack
// without requeue, because retrying a bad image cannot help. A job whose store failed is
// published again with a try count and acked, up to max_attempts tries, and then copied to the
// dead-letter queue before its "failed" event. stop() lets each worker finish its
// current job; jobs that were delivered but not started go back to the queue.
class WorkerPool {
  public:
    WorkerPool(broker::Broker& broker, store::ObjectStore& store, metrics::Metrics& metrics,
               WorkerOptions options);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    Result<void> start();
    void stop();
    // stop() then start(): the recovery step of `imgbus admin`.
    Result<void> restart();

    int running_workers() const;
    const WorkerOptions& options() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace imgbus::worker
