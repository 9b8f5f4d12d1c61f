// SPDX-License-Identifier: MIT
// The admin API behind `imgbus admin`: the status of every module, purge, restart of the worker
// pool and the ordered restart (pause intake, drain or requeue, restart workers, resume intake).
#include <ctime>
#include <filesystem>

#include "context.hpp"
#include "imgbus/log.hpp"
#include "management.hpp"

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;
using Json = nlohmann::json;
using SystemClock = std::chrono::system_clock;

constexpr auto kDrainPoll = std::chrono::milliseconds(100);
// Below either of these the data directory's disk is reported "low".
constexpr double kLowDiskFraction = 0.05;
constexpr std::uintmax_t kLowDiskBytes = std::uintmax_t{1} << 30;

std::string iso_time(SystemClock::time_point at) {
    if (at == SystemClock::time_point{}) return "";
    std::time_t seconds = SystemClock::to_time_t(at);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

Json broker_json(FrontendContext& context) {
    auto stats = context.broker.broker_stats();
    Json broker = {{"state", stats.blocked ? "blocked" : "ok"},
                   {"queues", context.broker.list_queues().size()},
                   {"message_bytes", stats.message_bytes},
                   {"memory_limit_bytes", stats.memory_limit_bytes},
                   {"blocked", stats.blocked},
                   {"journal_bytes", stats.journal_bytes}};
    auto jobs = context.broker.queue_stats(context.options.job_queue);
    if (!jobs) {
        broker["state"] = "unavailable";
        broker["reason"] = jobs.error().message;
        return broker;
    }
    broker["job_queue"] = {{"name", jobs->name},
                           {"messages_ready", jobs->messages_ready},
                           {"messages_unacknowledged", jobs->messages_unacknowledged},
                           {"consumers", jobs->consumers},
                           {"max_length", jobs->max_length_messages},
                           {"rejected_publish", jobs->rejected_publish_total}};
    if (jobs->max_length_messages != 0 && jobs->messages_ready >= jobs->max_length_messages) {
        broker["state"] = "full";
    }
    return broker;
}

Json store_json(FrontendContext& context) {
    bool reachable = context.store.bucket_exists(context.options.bucket);
    return {{"state", reachable ? "ok" : "unreachable"}, {"bucket", context.options.bucket}};
}

Json workers_json(const AdminHooks& hooks, const Json& progress) {
    if (!hooks.pool) return {{"state", "none"}, {"configured", 0}, {"running", 0}};
    int running = hooks.pool->running_workers();
    std::string state = running >= hooks.configured_workers ? "running" : "stopped";
    if (progress.value("running", false)) state = "restarting";
    return {{"state", state}, {"configured", hooks.configured_workers}, {"running", running}};
}

Json disk_json(const std::filesystem::path& dir) {
    if (dir.empty()) return {{"state", "unknown"}};
    std::error_code error;
    auto space = std::filesystem::space(dir, error);
    if (error) {
        return {{"state", "unknown"}, {"path", dir.string()}, {"reason", error.message()}};
    }
    double used = space.capacity == 0 ? 0.0
                                      : 100.0 * static_cast<double>(space.capacity - space.free) /
                                            static_cast<double>(space.capacity);
    bool low = space.available < kLowDiskBytes ||
               static_cast<double>(space.available) <
                   kLowDiskFraction * static_cast<double>(space.capacity);
    return {{"state", low ? "low" : "ok"},        {"path", std::filesystem::absolute(dir).string()},
            {"capacity_bytes", space.capacity},   {"free_bytes", space.free},
            {"available_bytes", space.available}, {"used_percent", used}};
}

Json listeners_json(const AdminHooks& hooks) {
    Json listeners = Json::array();
    if (!hooks.listeners) return listeners;
    for (const auto& listener : hooks.listeners()) {
        listeners.push_back({{"name", listener.name},
                             {"url", listener.url},
                             {"connections", listener.connections}});
    }
    return listeners;
}

// The AMQP connections in brief; /api/connections has every field.
Json connections_json(const AdminHooks& hooks) {
    Json connections = Json::array();
    if (!hooks.connections) return connections;
    for (const auto& connection : hooks.connections()) {
        std::string client;
        if (const auto* product = connection.client_properties.find("product")) {
            if (const auto* text = broker::as_string(*product)) client = *text;
        }
        connections.push_back({{"name", connection.name()},
                               {"user", connection.user},
                               {"state", connection.state},
                               {"channels", connection.channels.size()},
                               {"client", client}});
    }
    return connections;
}

Response get_status(FrontendContext& context) {
    auto& admin = context.management->admin;
    auto hooks = admin.hooks();
    auto progress = admin.progress();
    Json status = {{"broker", broker_json(context)},
                   {"store", store_json(context)},
                   {"workers", workers_json(hooks, progress)},
                   {"listeners", listeners_json(hooks)},
                   {"connections", connections_json(hooks)},
                   {"disk", disk_json(hooks.data_dir)},
                   {"intake",
                    {{"paused", context.intake_paused.load()},
                     {"amqp_publishes_held", context.intake_paused && hooks.intake_paused}}},
                   {"jobs", context.tracker->count_by_status()},
                   {"operation", progress}};
    bool healthy = status["broker"]["state"] == "ok" && status["store"]["state"] == "ok" &&
                   status["workers"]["state"] != "stopped" && status["disk"]["state"] != "low" &&
                   !context.intake_paused;
    status["status"] = healthy ? "ok" : "degraded";
    return json_response(Status::ok, status);
}

Response post_purge(FrontendContext& context, const Request& request) {
    auto query = parse_query(request.target());
    if (!query) return management_error(Status::bad_request, "bad_request", query.error().message);
    auto queue = context.options.job_queue;
    if (auto found = query->find("queue"); found != query->end()) queue = found->second;
    if (queue == context.options.event_queue) {
        return management_error(Status::conflict, "conflict",
                                "queue '" + queue +
                                    "' carries job outcomes and is not purged; "
                                    "purge '" +
                                    context.options.job_queue + "' instead");
    }
    auto purged = purge_queue(context, queue);
    if (!purged) {
        bool missing = purged.error().code == broker::Errc::queue_not_found;
        return management_error(missing ? Status::not_found : Status::service_unavailable,
                                missing ? "not_found" : "unavailable", purged.error().message);
    }
    return json_response(Status::ok, {{"queue", queue},
                                      {"purged_messages", purged->messages},
                                      {"jobs_marked_purged", purged->jobs_marked}});
}

Response begin_operation(FrontendContext& context, AdminControl::Operation operation) {
    auto begun = context.management->admin.begin(operation);
    if (!begun) return management_error(Status::conflict, "conflict", begun.error().message);
    return json_response(Status::accepted, {{"operation", context.management->admin.progress()},
                                            {"status_url", "/api/admin/status"}});
}

Response post_intake(FrontendContext& context, const Request& request) {
    auto query = parse_query(request.target());
    if (!query) return management_error(Status::bad_request, "bad_request", query.error().message);
    auto paused = query->find("paused");
    if (paused == query->end() || (paused->second != "true" && paused->second != "false")) {
        return management_error(Status::bad_request, "bad_request",
                                "give ?paused=true to refuse uploads or ?paused=false to accept "
                                "them again");
    }
    set_intake_paused(context, paused->second == "true");
    module_logger("http")->warn("intake {} by an operator",
                                context.intake_paused ? "paused" : "resumed");
    return json_response(Status::ok, {{"paused", context.intake_paused.load()}});
}

}  // namespace

void set_intake_paused(FrontendContext& context, bool paused) {
    context.intake_paused = paused;
    context.metrics.intake_paused().Set(paused ? 1 : 0);
    if (!context.management) return;
    auto hooks = context.management->admin.hooks();
    if (hooks.intake_paused) hooks.intake_paused(paused);
}

AdminControl::AdminControl(FrontendContext& context) : context_(context) {}

AdminControl::~AdminControl() { shutdown(); }

void AdminControl::set_hooks(AdminHooks hooks) {
    auto on_pause = hooks.intake_paused;
    {
        std::lock_guard lock(mutex_);
        hooks_ = std::move(hooks);
    }
    if (on_pause && context_.intake_paused) on_pause(true);
}

AdminHooks AdminControl::hooks() const {
    std::lock_guard lock(mutex_);
    return hooks_;
}

Result<void> AdminControl::begin(Operation operation) {
    std::lock_guard lock(mutex_);
    if (running_) {
        return Error{std::make_error_code(std::errc::device_or_resource_busy),
                     "the admin operation '" + operation_ + "' is still running (" + phase_ +
                         "); wait for it, see GET /api/admin/status"};
    }
    if (!hooks_.pool) {
        return Error{std::make_error_code(std::errc::operation_not_supported),
                     "this server runs no worker pool (--workers 0 or an external worker); "
                     "restart the worker processes instead"};
    }
    if (stopping_) {
        return Error{std::make_error_code(std::errc::operation_canceled),
                     "the server is shutting down"};
    }
    if (thread_.joinable()) thread_.join();
    running_ = true;
    operation_ = operation == Operation::restart_workers ? "restart_workers" : "ordered_restart";
    phase_ = "starting";
    steps_.clear();
    result_.clear();
    started_at_ = SystemClock::now();
    finished_at_ = {};
    thread_ = std::thread([this, operation] { run(operation); });
    return {};
}

nlohmann::json AdminControl::progress() const {
    std::lock_guard lock(mutex_);
    return {{"running", running_},
            {"operation", operation_},
            {"phase", phase_},
            {"steps", steps_},
            {"started_at", iso_time(started_at_)},
            {"finished_at", iso_time(finished_at_)},
            {"result", result_}};
}

void AdminControl::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void AdminControl::set_phase(std::string phase) {
    module_logger("http")->info("admin {}: {}", operation_, phase);
    std::lock_guard lock(mutex_);
    steps_.push_back(phase);
    phase_ = std::move(phase);
}

// Waits until the job queue contains nothing ready or unacked; false after the drain timeout.
bool AdminControl::drain_job_queue() {
    auto deadline = std::chrono::steady_clock::now() + context_.options.drain_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return false;
        }
        auto stats = context_.broker.queue_stats(context_.options.job_queue);
        if (stats && stats->messages_ready + stats->messages_unacknowledged == 0) return true;
        std::this_thread::sleep_for(kDrainPoll);
    }
    return false;
}

// stop() lets each worker finish its current job and returns the jobs it held but had not
// started to the queue, so nothing is lost; start() then consumes them again.
Result<void> AdminControl::restart_pool() {
    auto hooks = this->hooks();
    set_phase("stopping workers; each finishes its current job, the rest are requeued");
    hooks.pool->stop();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return {};
    }
    set_phase("starting workers");
    return hooks.pool->start();
}

void AdminControl::run(Operation operation) {
    std::string result;
    bool was_paused = context_.intake_paused.load();
    if (operation == Operation::ordered_restart) {
        set_intake_paused(context_, true);
        set_phase("intake paused (uploads answer 503, AMQP publishes to " +
                  context_.options.job_queue + " are held); draining " +
                  context_.options.job_queue);
        if (!drain_job_queue()) {
            auto stats = context_.broker.queue_stats(context_.options.job_queue);
            result = "drain stopped after " +
                     std::to_string(context_.options.drain_timeout.count()) + " s with " +
                     std::to_string(stats ? stats->messages_ready : 0) +
                     " jobs still queued; they stay queued. ";
        }
    }
    auto restarted = restart_pool();
    if (operation == Operation::ordered_restart) {
        set_phase(was_paused ? "leaving intake paused as it was before" : "resuming intake");
        set_intake_paused(context_, was_paused);
    }
    auto hooks = this->hooks();
    result += restarted ? std::to_string(hooks.pool->running_workers()) + " workers running"
                        : "starting the workers failed: " + restarted.error().message;
    std::lock_guard lock(mutex_);
    running_ = false;
    phase_ = "done";
    result_ = std::move(result);
    finished_at_ = SystemClock::now();
}

void add_admin_routes(Router& router, FrontendContext& context) {
    using beast_http::verb;
    auto guard = [&context](auto handler) -> Handler {
        return [&context, handler](const Request& request, const PathParams&) {
            if (auto refused = check_management_auth(context.options, request)) return *refused;
            return handler(request);
        };
    };
    router.add(verb::get, "/api/admin/status",
               guard([&context](const Request&) { return get_status(context); }));
    router.add(verb::post, "/api/admin/purge",
               guard([&context](const Request& request) { return post_purge(context, request); }));
    router.add(verb::post, "/api/admin/restart-workers", guard([&context](const Request&) {
                   return begin_operation(context, AdminControl::Operation::restart_workers);
               }));
    router.add(verb::post, "/api/admin/restart", guard([&context](const Request&) {
                   return begin_operation(context, AdminControl::Operation::ordered_restart);
               }));
    router.add(verb::post, "/api/admin/intake",
               guard([&context](const Request& request) { return post_intake(context, request); }));
}

}  // namespace imgbus::http
