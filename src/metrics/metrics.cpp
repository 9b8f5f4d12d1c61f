// SPDX-License-Identifier: MIT
#include "imgbus/metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <array>
#include <string_view>
#include <vector>

namespace imgbus::metrics {
namespace {

using Buckets = prometheus::Histogram::BucketBoundaries;

// Label values created at startup, so that dashboards and rate() see a zero series before the
// first event instead of no series at all.
constexpr std::array<std::string_view, 1> kKnownOps = {"grayscale"};
constexpr std::array<std::string_view, 2> kProcessedStatuses = {"done", "failed"};
constexpr std::array<std::string_view, 3> kRejectReasons = {"queue_full", "broker_unavailable",
                                                            "intake_paused"};
constexpr std::array<std::string_view, 8> kFailureReasons = {
    "bad_message", "fetch", "decode", "operation", "kernel", "encode", "store", "internal"};
constexpr std::array<std::string_view, 5> kJobStages = {"fetch", "decode", "kernel", "encode",
                                                        "store"};
constexpr std::array<std::string_view, 5> kStoreOps = {"put", "get", "head", "delete", "list"};
// The queue names of the worker protocol (imgbus::worker::kJobQueue and kEventQueue). They are
// spelled out here because metrics depends on no other module.
constexpr std::array<std::string_view, 2> kKnownQueues = {"imgbus.jobs", "imgbus.events"};

// Kernel runs: 0.5 ms for a small image up to tens of seconds for many passes.
Buckets kernel_buckets() {
    return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30};
}

// Waits and whole requests: sub-millisecond on an idle server up to 120 s, twice the default
// timeout of `imgbus load`.
Buckets request_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
            0.5,    1,     2.5,    5,     10,   20,    30,   60,  120};
}

// Process start to first job: start-up plus however long the first upload took to arrive.
Buckets startup_buckets() { return {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}; }

prometheus::Family<prometheus::Counter>* counter(prometheus::Registry& registry,
                                                 const std::string& name, const std::string& help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Gauge>* gauge(prometheus::Registry& registry,
                                             const std::string& name, const std::string& help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Histogram>* histogram(prometheus::Registry& registry,
                                                     const std::string& name,
                                                     const std::string& help) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
    auto& registry = *registry_;
    frontend_request_seconds_ = histogram(
        registry, "frontend_request_seconds",
        "Seconds from an upload being accepted to its job's done or failed event, by operation.");
    frontend_publish_total_ =
        counter(registry, "frontend_publish_total", "Job messages published to the job queue.");
    frontend_processed_total_ = counter(registry, "frontend_processed_total",
                                        "Jobs whose final event reached the frontend, by status.");
    frontend_rejected_total_ = counter(
        registry, "frontend_rejected_total",
        "Uploads answered with 503 because the job queue was full or the broker unavailable.");
    grayscale_queue_wait_seconds_ =
        histogram(registry, "grayscale_queue_wait_seconds",
                  "Seconds a job message waited from publish until a worker thread took it.");
    grayscale_process_seconds_ = histogram(registry, "grayscale_process_seconds",
                                           "Seconds in the OpenMP kernel of a job, all passes.");
    grayscale_startup_seconds_ =
        histogram(registry, "grayscale_startup_seconds",
                  "Seconds from process start to the first job message a worker processed.");
    grayscale_failures_total_ = counter(registry, "grayscale_failures_total",
                                        "Jobs that failed or job messages rejected, by reason.");
    grayscale_reconnect_attempts_total_ =
        counter(registry, "grayscale_reconnect_attempts_total",
                "Attempts by a worker to reconnect to the broker or the store.");
    job_stage_seconds_ = histogram(registry, "imgbus_job_stage_seconds",
                                   "Seconds a worker spent in one stage of a job, by stage.");
    job_queue_wait_seconds_ = histogram(
        registry, "imgbus_job_queue_wait_seconds",
        "Seconds a job message waited from publish until a worker thread took it, by operation.");
    job_failures_total_ = counter(registry, "imgbus_job_failures_total",
                                  "Jobs that failed, by operation and failed stage.");
    operation_seconds_ =
        histogram(registry, "imgbus_operation_seconds",
                  "Seconds in one operation's OpenMP kernel, all passes; pipeline steps each "
                  "count under their own operation.");
    workers_busy_ =
        gauge(registry, "imgbus_workers_busy", "Worker threads processing a job at the moment.");
    intake_paused_ = gauge(registry, "imgbus_intake_paused",
                           "1 while an operator has paused intake (uploads answer 503, AMQP "
                           "publishes to the job queue are held), else 0.");
    queue_messages_ready_ =
        gauge(registry, "imgbus_queue_messages_ready", "Messages in the queue ready for delivery.");
    queue_messages_unacked_ = gauge(registry, "imgbus_queue_messages_unacked",
                                    "Messages delivered to a consumer and not yet acknowledged.");
    queue_consumers_ =
        gauge(registry, "imgbus_queue_consumers", "Consumers registered on the queue.");
    http_request_seconds_ =
        histogram(registry, "imgbus_http_request_seconds",
                  "Seconds from an HTTP request being read to its response being written.");
    store_requests_total_ =
        counter(registry, "imgbus_store_requests_total", "Object store requests, by operation.");
    store_read_bytes_total_ = counter(registry, "imgbus_store_read_bytes_total",
                                      "Bytes of object data read from the object store.");
    store_written_bytes_total_ = counter(registry, "imgbus_store_written_bytes_total",
                                         "Bytes of object data written to the object store.");
    log_errors_total_ = counter(registry, "imgbus_log_errors_total",
                                "Log messages that a log sink failed to write.");
    create_known_series();
}

void Metrics::create_known_series() {
    for (auto op : kKnownOps) {
        const std::string op_label{op};
        frontend_request_seconds(op_label);
        frontend_publish_total(op_label);
        for (auto status : kProcessedStatuses) {
            frontend_processed_total(op_label, std::string{status});
        }
        for (auto stage : kJobStages) {
            job_stage_seconds(op_label, std::string{stage});
        }
        job_queue_wait_seconds(op_label);
        operation_seconds(op_label);
    }

    for (auto reason : kRejectReasons) {
        frontend_rejected_total(std::string{reason});
    }

    for (auto reason : kFailureReasons) {
        grayscale_failures_total(std::string{reason});
    }

    for (auto op : kStoreOps) {
        store_requests_total(std::string{op});
    }

    for (auto queue : kKnownQueues) {
        queue_messages_ready(std::string{queue});
        queue_messages_unacked(std::string{queue});
        queue_consumers(std::string{queue});
    }

    grayscale_queue_wait_seconds();
    grayscale_process_seconds();
    grayscale_startup_seconds();
    grayscale_reconnect_attempts_total();
    workers_busy();
    intake_paused();
    store_read_bytes_total();
    store_written_bytes_total();
    log_errors_total();
}

prometheus::Histogram& Metrics::frontend_request_seconds(const std::string& op) {
    return frontend_request_seconds_->Add({{"op", op}}, request_buckets());
}

prometheus::Counter& Metrics::frontend_publish_total(const std::string& op) {
    return frontend_publish_total_->Add({{"op", op}});
}

prometheus::Counter& Metrics::frontend_processed_total(const std::string& op,
                                                       const std::string& status) {
    return frontend_processed_total_->Add({{"op", op}, {"status", status}});
}

prometheus::Counter& Metrics::frontend_rejected_total(const std::string& reason) {
    return frontend_rejected_total_->Add({{"reason", reason}});
}

prometheus::Histogram& Metrics::grayscale_queue_wait_seconds() {
    return grayscale_queue_wait_seconds_->Add({}, request_buckets());
}

prometheus::Histogram& Metrics::grayscale_process_seconds() {
    return grayscale_process_seconds_->Add({}, kernel_buckets());
}

prometheus::Histogram& Metrics::grayscale_startup_seconds() {
    return grayscale_startup_seconds_->Add({}, startup_buckets());
}

prometheus::Counter& Metrics::grayscale_failures_total(const std::string& reason) {
    return grayscale_failures_total_->Add({{"reason", reason}});
}

prometheus::Counter& Metrics::grayscale_reconnect_attempts_total() {
    return grayscale_reconnect_attempts_total_->Add({});
}

prometheus::Histogram& Metrics::job_stage_seconds(const std::string& op, const std::string& stage) {
    return job_stage_seconds_->Add({{"op", op}, {"stage", stage}}, kernel_buckets());
}

prometheus::Histogram& Metrics::job_queue_wait_seconds(const std::string& op) {
    return job_queue_wait_seconds_->Add({{"op", op}}, request_buckets());
}

prometheus::Counter& Metrics::job_failures_total(const std::string& op, const std::string& reason) {
    return job_failures_total_->Add({{"op", op}, {"reason", reason}});
}

prometheus::Histogram& Metrics::operation_seconds(const std::string& op) {
    return operation_seconds_->Add({{"op", op}}, kernel_buckets());
}

prometheus::Gauge& Metrics::workers_busy() { return workers_busy_->Add({}); }

prometheus::Gauge& Metrics::intake_paused() { return intake_paused_->Add({}); }

prometheus::Gauge& Metrics::queue_messages_ready(const std::string& queue) {
    return queue_messages_ready_->Add({{"queue", queue}});
}

prometheus::Gauge& Metrics::queue_messages_unacked(const std::string& queue) {
    return queue_messages_unacked_->Add({{"queue", queue}});
}

prometheus::Gauge& Metrics::queue_consumers(const std::string& queue) {
    return queue_consumers_->Add({{"queue", queue}});
}

prometheus::Histogram& Metrics::http_request_seconds(const std::string& route,
                                                     const std::string& method,
                                                     const std::string& status) {
    return http_request_seconds_->Add({{"route", route}, {"method", method}, {"status", status}},
                                      request_buckets());
}

prometheus::Counter& Metrics::store_requests_total(const std::string& op) {
    return store_requests_total_->Add({{"op", op}});
}

prometheus::Counter& Metrics::store_read_bytes_total() { return store_read_bytes_total_->Add({}); }

prometheus::Counter& Metrics::store_written_bytes_total() {
    return store_written_bytes_total_->Add({});
}

prometheus::Counter& Metrics::log_errors_total() { return log_errors_total_->Add({}); }

std::string Metrics::serialize() const {
    return prometheus::TextSerializer{}.Serialize(registry_->Collect());
}

}  // namespace imgbus::metrics
