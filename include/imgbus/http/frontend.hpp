// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/result.hpp"
#include "imgbus/store/object_store.hpp"
#include "imgbus/worker/worker_pool.hpp"

namespace imgbus::http {

struct FrontendOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;      // 0 picks a free port
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
    // HTTP basic-auth user and password of the management (/api/overview, /api/queues...) and
    // admin (/api/admin/...) routes; with either empty those routes answer 403.
    std::string management_username;
    std::string management_password;
    // How often the per-queue counters are sampled for the *_details.rate fields.
    std::chrono::milliseconds rate_sample_interval{5000};
    // How long an ordered restart waits for the job queue to drain before requeueing.
    std::chrono::seconds drain_timeout{30};
    // Finished jobs older than this (by their last update) are deleted with their input and
    // result by a periodic sweep; 0 keeps them forever.
    std::chrono::seconds job_retention{std::chrono::hours(24 * 7)};
};

// A listener of the process, as `imgbus admin status` shows it.
struct ListenerStatus {
    std::string name;  // "http", "s3", "amqp"
    std::string url;
    std::size_t connections = 0;
};

// What the admin routes reach beyond the broker and the store, filled in by the caller.
struct AdminHooks {
    worker::WorkerPool* pool = nullptr;  // restarted by restart-workers; null: no workers here
    int configured_workers = 0;
    std::filesystem::path data_dir;  // its file system's free space is reported
    std::function<std::vector<ListenerStatus>()> listeners;
    // The AMQP listener's connections and channels, for /api/connections and /api/channels;
    // empty: none are listed.
    std::function<std::vector<broker::ConnectionInfo>()> connections;
    // Called with true when an operator pauses intake (POST /api/admin/intake, an ordered
    // restart) and with false when it resumes: the AMQP listener holds publishes to the job
    // queue meanwhile. Called at once with true if intake is paused when the hooks are set.
    std::function<void(bool paused)> intake_paused;
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
    // May be called before or after start(); until then the admin routes report no workers.
    void set_admin_hooks(AdminHooks hooks);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace imgbus::http
