// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "imgbus/broker/broker.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/result.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::http {

struct FrontendOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0 picks a free port
    std::string bucket = "imgbus";  // uploads/ and processed/ live here
    std::uint64_t max_upload_bytes = 64ULL << 20;
    imaging::DecodeLimits decode_limits;
    int max_threads_per_job = 64;
    int max_runs = 20;
    int max_passes = 100;
    int max_jobs_per_upload = 256;  // thread counts × runs
    std::size_t max_connections = 1024;
    std::chrono::seconds read_timeout{30};
    std::chrono::seconds retry_after{2};  // Retry-After sent with a 503
    std::string job_queue = "imgbus.jobs";
    std::string event_queue = "imgbus.events";
    int workers = 0;  // shown by /api/config
};

// Status of the parts /readyz reports on, filled in by the caller.
using ReadinessProbe = std::function<std::string()>;  // "" when ready, else the reason

// The HTTP frontend: web UI, JSON API, server-sent events, /metrics and health checks. It
// publishes jobs to the broker, keeps the job table from the event queue, and recovers jobs that
// were accepted but not finished before a restart (their records live in the store).
class Frontend {
public:
    Frontend(boost::asio::io_context& io, broker::Broker& broker, store::ObjectStore& store,
             metrics::Metrics& metrics, FrontendOptions options);
    ~Frontend();
    Frontend(const Frontend&) = delete;
    Frontend& operator=(const Frontend&) = delete;

    // Loads job records, re-publishes unfinished ones, subscribes to the event queue and starts
    // listening. Returns the bound endpoint (useful with port 0).
    Result<boost::asio::ip::tcp::endpoint> start();
    // Stops accepting, closes sessions (event streams first) and unsubscribes. Idempotent.
    void stop();

    void set_readiness_probe(ReadinessProbe probe);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace imgbus::http
