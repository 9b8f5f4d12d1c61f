// SPDX-License-Identifier: MIT
// The management API (RabbitMQ's field names) and the admin API share: basic auth, queue rates,
// the purge that reports purged jobs, and the admin operations that run off the I/O threads.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "imgbus/http/frontend.hpp"
#include "imgbus/result.hpp"
#include "response.hpp"
#include "router.hpp"

namespace imgbus::http {

struct FrontendContext;

// Per-second rates of one queue over the last sample interval, as RabbitMQ's *_details.rate.
struct QueueRate {
    double publish = 0;
    double deliver_get = 0;
    double ack = 0;
    double redeliver = 0;
    double messages = 0;  // change of depth; negative while the queue shrinks
    double messages_ready = 0;
    double messages_unacknowledged = 0;

    QueueRate& operator+=(const QueueRate& other);
};

// Keeps the two latest samples of every queue's counters. A queue seen once has zero rates; a
// counter that went down (the queue was deleted and declared again) counts as zero.
class QueueRates {
  public:
    using Clock = std::chrono::steady_clock;

    void record(const std::vector<broker::QueueStats>& queues, Clock::time_point at);
    QueueRate rate(const std::string& queue) const;
    QueueRate total() const;

  private:
    struct Sample {
        Clock::time_point at;
        broker::QueueStats stats;
    };
    struct History {
        std::optional<Sample> previous;
        Sample latest;
    };

    static QueueRate between(const Sample& before, const Sample& after);

    mutable std::mutex mutex_;
    std::map<std::string, History> queues_;
};

// Per-second rates of named counters of named objects (connections, channels), from their two
// latest samples, like QueueRates. An object missing from a sample is forgotten.
class CounterRates {
  public:
    using Clock = std::chrono::steady_clock;
    using Counters = std::map<std::string, std::uint64_t>;

    void record(std::map<std::string, Counters> objects, Clock::time_point at);
    // 0 until the object was sampled twice, and for an unknown object or counter.
    double rate(const std::string& object, const std::string& counter) const;

  private:
    struct History {
        Clock::time_point previous_at;
        Clock::time_point latest_at;
        std::optional<Counters> previous;
        Counters latest;
    };

    mutable std::mutex mutex_;
    std::map<std::string, History> objects_;
};

// Checks the request's Authorization header against the management credentials in constant
// time. Returns the 401 (or 403 without configured credentials) to send, or nullopt.
std::optional<Response> check_management_auth(const FrontendOptions& options,
                                              const Request& request);

// RabbitMQ's error body, with imgbus's `message` beside RabbitMQ's `reason`.
Response management_error(Status status, std::string_view code, std::string_view message);

// Helpers shared by the management routes (management_api.cpp).
std::string node_name();
// The decoded {name} path segment.
Result<std::string> decoded_param(const PathParams& params, const std::string& name);
// Checks the {vhost} segment; only "/" exists. Returns the error response, or nullopt.
std::optional<Response> check_vhost(const PathParams& params);
// A JSON list answer that honours RabbitMQ's ?columns=a,b.c.
Response list_response(const Request& request, nlohmann::json items);
// Wraps a handler so that it runs only for a request with the management credentials.
Handler authenticated(FrontendContext& context,
                      std::function<Response(const Request&, const PathParams&)> handler);

struct PurgeOutcome {
    std::size_t messages = 0;     // ready messages removed
    std::size_t jobs_marked = 0;  // queued jobs recorded as failed, "purged by an operator"
};

// Purges a queue. After a purge of the job queue, every job still queued is recorded as purged.
// A job that a worker had already taken is updated again by its next event.
Result<PurgeOutcome> purge_queue(FrontendContext& context, const std::string& queue);

// The admin operations that take long (stopping workers waits for their current jobs), run one
// at a time on a thread of their own, with their progress readable by the status route.
class AdminControl {
  public:
    enum class Operation { restart_workers, ordered_restart };

    explicit AdminControl(FrontendContext& context);
    ~AdminControl();
    AdminControl(const AdminControl&) = delete;
    AdminControl& operator=(const AdminControl&) = delete;

    void set_hooks(AdminHooks hooks);
    AdminHooks hooks() const;

    // Starts the operation; fails with a sentence when another one still runs or there is no
    // worker pool to restart.
    Result<void> begin(Operation operation);
    // {"running", "operation", "phase", "steps", "started_at", "finished_at", "result"}.
    nlohmann::json progress() const;
    // Stops waiting for a drain and joins the thread.
    void shutdown();

  private:
    void run(Operation operation);
    void set_phase(std::string phase);
    bool drain_job_queue();
    Result<void> restart_pool();

    FrontendContext& context_;
    mutable std::mutex mutex_;
    AdminHooks hooks_;
    std::thread thread_;
    bool running_ = false;
    bool stopping_ = false;
    std::string operation_;
    std::string phase_ = "idle";
    std::vector<std::string> steps_;  // every phase of the current operation, in order
    std::string result_;
    std::chrono::system_clock::time_point started_at_;
    std::chrono::system_clock::time_point finished_at_;
};

// Owned by the FrontendContext: the rate sampler's timer, the rates and the admin operations.
struct ManagementState {
    explicit ManagementState(FrontendContext& context);

    QueueRates rates;
    CounterRates client_rates;  // connections' octets and channels' message_stats
    AdminControl admin;
    boost::asio::steady_timer timer;  // on a strand of its own
    std::atomic<bool> sampling{true};
};

// Creates context.management and adds /api/overview, /api/queues[...] and /api/ui/queues.
void add_management_routes(Router& router, FrontendContext& context);
// Adds /api/connections, /api/channels and /api/consumers (clients_api.cpp).
void add_client_routes(Router& router, FrontendContext& context);
// Records the connections' and channels' counters for their rates (clients_api.cpp).
void sample_client_counters(FrontendContext& context);
// Adds /api/admin/... (status, purge, restart-workers, restart, intake).
void add_admin_routes(Router& router, FrontendContext& context);
// Samples the queue counters now and then every options.rate_sample_interval until stopped.
void start_management(FrontendContext& context);
void stop_management(FrontendContext& context);

}  // namespace imgbus::http
