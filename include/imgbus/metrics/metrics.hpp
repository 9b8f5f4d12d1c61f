// SPDX-License-Identifier: MIT
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace imgbus::metrics {

// Every metric family of the process, created once and handed by reference to the modules that
// record into them. Names the container version used are kept exactly; counters carry `_total`.
class Metrics {
  public:
    Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // Upload accepted to processing finished, per operation.
    prometheus::Histogram& frontend_request_seconds(const std::string& op);
    prometheus::Counter& frontend_publish_total(const std::string& op);
    // status is "done" or "failed".
    prometheus::Counter& frontend_processed_total(const std::string& op, const std::string& status);
    // Uploads refused with 503 because the job queue was full or the broker was down.
    prometheus::Counter& frontend_rejected_total(const std::string& reason);

    prometheus::Histogram& grayscale_queue_wait_seconds();
    prometheus::Histogram& grayscale_process_seconds();
    prometheus::Histogram& grayscale_startup_seconds();
    // reason is a short code such as "decode", "store", "kernel".
    prometheus::Counter& grayscale_failures_total(const std::string& reason);
    prometheus::Counter& grayscale_reconnect_attempts_total();

    // One worker stage of a job: fetch, decode, kernel, encode, store. op is the job's
    // operation, or "pipeline" for a job of several steps.
    prometheus::Histogram& job_stage_seconds(const std::string& op, const std::string& stage);
    // The grayscale_* families above count grayscale jobs only; these count every operation.
    prometheus::Histogram& job_queue_wait_seconds(const std::string& op);
    prometheus::Counter& job_failures_total(const std::string& op, const std::string& reason);
    // Kernel time of one operation run, all passes; each step of a pipeline counts under its
    // own operation.
    prometheus::Histogram& operation_seconds(const std::string& op);
    prometheus::Gauge& workers_busy();
    // 1 while an operator has paused intake, else 0.
    prometheus::Gauge& intake_paused();

    // Queue depth, refreshed from the broker before each scrape.
    prometheus::Gauge& queue_messages_ready(const std::string& queue);
    prometheus::Gauge& queue_messages_unacked(const std::string& queue);
    prometheus::Gauge& queue_consumers(const std::string& queue);

    prometheus::Histogram& http_request_seconds(const std::string& route, const std::string& method,
                                                const std::string& status);
    // op is put, get, head, delete or list.
    prometheus::Counter& store_requests_total(const std::string& op);
    prometheus::Counter& store_read_bytes_total();
    prometheus::Counter& store_written_bytes_total();

    // Log lines that a sink failed to write.
    prometheus::Counter& log_errors_total();

    // The registry in Prometheus text exposition format 0.0.4.
    std::string serialize() const;
    prometheus::Registry& registry() { return *registry_; }

  private:
    // Creates the series of every known label value, so that they read 0 before the first event.
    void create_known_series();

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Histogram>* frontend_request_seconds_;
    prometheus::Family<prometheus::Counter>* frontend_publish_total_;
    prometheus::Family<prometheus::Counter>* frontend_processed_total_;
    prometheus::Family<prometheus::Counter>* frontend_rejected_total_;
    prometheus::Family<prometheus::Histogram>* grayscale_queue_wait_seconds_;
    prometheus::Family<prometheus::Histogram>* grayscale_process_seconds_;
    prometheus::Family<prometheus::Histogram>* grayscale_startup_seconds_;
    prometheus::Family<prometheus::Counter>* grayscale_failures_total_;
    prometheus::Family<prometheus::Counter>* grayscale_reconnect_attempts_total_;
    prometheus::Family<prometheus::Histogram>* job_stage_seconds_;
    prometheus::Family<prometheus::Histogram>* job_queue_wait_seconds_;
    prometheus::Family<prometheus::Counter>* job_failures_total_;
    prometheus::Family<prometheus::Histogram>* operation_seconds_;
    prometheus::Family<prometheus::Gauge>* workers_busy_;
    prometheus::Family<prometheus::Gauge>* intake_paused_;
    prometheus::Family<prometheus::Gauge>* queue_messages_ready_;
    prometheus::Family<prometheus::Gauge>* queue_messages_unacked_;
    prometheus::Family<prometheus::Gauge>* queue_consumers_;
    prometheus::Family<prometheus::Histogram>* http_request_seconds_;
    prometheus::Family<prometheus::Counter>* store_requests_total_;
    prometheus::Family<prometheus::Counter>* store_read_bytes_total_;
    prometheus::Family<prometheus::Counter>* store_written_bytes_total_;
    prometheus::Family<prometheus::Counter>* log_errors_total_;
};

}  // namespace imgbus::metrics
