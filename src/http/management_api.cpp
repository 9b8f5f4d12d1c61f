// SPDX-License-Identifier: MIT
// The management API: RabbitMQ's management-plugin paths and field names for what the broker
// tracks (overview, queues, purge), behind HTTP basic auth, plus the read-only queue summary
// that the web UI polls without credentials.
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/field.hpp>

#include "context.hpp"
#include "imgbus/log.hpp"
#include "management.hpp"

#ifndef IMGBUS_VERSION
#define IMGBUS_VERSION "unknown"
#endif

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;
using Json = nlohmann::json;

// Only the default virtual host exists; its name is "/" (sent as %2F in a path).
constexpr std::string_view kVhost = "/";

Json rate_json(double rate) { return {{"rate", rate}}; }

Json message_stats_json(std::uint64_t publish, std::uint64_t deliver_get, std::uint64_t ack,
                        std::uint64_t redeliver, const QueueRate& rate) {
    return {{"publish", publish},
            {"publish_details", rate_json(rate.publish)},
            {"deliver_get", deliver_get},
            {"deliver_get_details", rate_json(rate.deliver_get)},
            {"ack", ack},
            {"ack_details", rate_json(rate.ack)},
            {"redeliver", redeliver},
            {"redeliver_details", rate_json(rate.redeliver)}};
}

Json queue_json(const broker::QueueStats& stats, const QueueRate& rate) {
    Json arguments = Json::object();
    arguments["x-max-length"] = stats.max_length_messages;
    return {
        {"name", stats.name},
        {"vhost", kVhost},
        {"type", "classic"},
        {"state", "running"},
        {"durable", stats.durable},
        {"auto_delete", stats.auto_delete},
        {"exclusive", stats.exclusive},
        {"arguments", std::move(arguments)},
        {"messages", stats.messages_ready + stats.messages_unacknowledged},
        {"messages_details", rate_json(rate.messages)},
        {"messages_ready", stats.messages_ready},
        {"messages_ready_details", rate_json(rate.messages_ready)},
        {"messages_unacknowledged", stats.messages_unacknowledged},
        {"messages_unacknowledged_details", rate_json(rate.messages_unacknowledged)},
        {"message_bytes_ready", stats.message_bytes_ready},
        // Bytes of the ready message bodies, because the broker tracks no other memory per queue.
        {"memory", stats.message_bytes_ready},
        {"consumers", stats.consumers},
        {"message_stats", message_stats_json(stats.published_total, stats.delivered_total,
                                             stats.acked_total, stats.redelivered_total, rate)}};
}

// "message_stats.publish" as the JSON pointer /message_stats/publish.
Json::json_pointer column_pointer(const std::string& column) {
    std::string pointer = "/";
    for (char c : column) {
        if (c == '.') {
            pointer += '/';
        } else if (c == '~') {
            pointer += "~0";
        } else if (c == '/') {
            pointer += "~1";
        } else {
            pointer += c;
        }
    }
    return Json::json_pointer(pointer);
}

// Keeps only the listed fields (RabbitMQ's ?columns=a,b.c); dotted names reach into objects.
Json select_columns(const Json& item, const std::string& columns) {
    Json selected = Json::object();
    std::size_t start = 0;
    while (start <= columns.size()) {
        auto comma = columns.find(',', start);
        auto column =
            columns.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        start = comma == std::string::npos ? columns.size() + 1 : comma + 1;
        if (column.empty()) continue;
        auto pointer = column_pointer(column);
        if (item.contains(pointer)) selected[pointer] = item.at(pointer);
    }
    return selected;
}

Json queues_json(FrontendContext& context) {
    Json queues = Json::array();
    for (const auto& stats : context.broker.list_queues()) {
        queues.push_back(queue_json(stats, context.management->rates.rate(stats.name)));
    }
    return queues;
}

Response get_overview(FrontendContext& context) {
    auto queues = context.broker.list_queues();
    std::uint64_t ready = 0, unacked = 0, consumers = 0;
    std::uint64_t publish = 0, deliver_get = 0, ack = 0, redeliver = 0;
    for (const auto& stats : queues) {
        ready += stats.messages_ready;
        unacked += stats.messages_unacknowledged;
        consumers += stats.consumers;
        publish += stats.published_total;
        deliver_get += stats.delivered_total;
        ack += stats.acked_total;
        redeliver += stats.redelivered_total;
    }
    std::size_t connections = 0;
    auto hooks = context.management->admin.hooks();
    if (hooks.listeners) {
        for (const auto& listener : hooks.listeners()) {
            if (listener.name == "amqp") connections += listener.connections;
        }
    }
    auto rate = context.management->rates.total();
    Json overview = {
        {"management_version", IMGBUS_VERSION},
        {"product_name", "imgbus"},
        {"product_version", IMGBUS_VERSION},
        {"node", node_name()},
        {"object_totals",
         {{"connections", connections},
          {"consumers", consumers},
          {"exchanges", context.broker.list_exchanges().size()},
          {"queues", queues.size()}}},
        {"queue_totals",
         {{"messages", ready + unacked},
          {"messages_details", rate_json(rate.messages)},
          {"messages_ready", ready},
          {"messages_ready_details", rate_json(rate.messages_ready)},
          {"messages_unacknowledged", unacked},
          {"messages_unacknowledged_details", rate_json(rate.messages_unacknowledged)}}},
        {"message_stats", message_stats_json(publish, deliver_get, ack, redeliver, rate)}};
    return json_response(Status::ok, overview);
}

Response get_queue(FrontendContext& context, const PathParams& params) {
    if (auto bad = check_vhost(params)) return *bad;
    auto name = decoded_param(params, "name");
    if (!name) return management_error(Status::bad_request, "bad_request", name.error().message);
    auto stats = context.broker.queue_stats(*name);
    if (!stats) {
        return management_error(Status::not_found, "not_found",
                                "queue '" + *name + "' does not exist in vhost '/'");
    }
    return json_response(Status::ok, queue_json(*stats, context.management->rates.rate(*name)));
}

Response delete_contents(FrontendContext& context, const PathParams& params) {
    if (auto bad = check_vhost(params)) return *bad;
    auto name = decoded_param(params, "name");
    if (!name) return management_error(Status::bad_request, "bad_request", name.error().message);
    if (*name == context.options.event_queue) {
        return management_error(
            Status::conflict, "conflict",
            "queue '" + *name +
                "' carries the outcome of every job, and purging it would leave jobs shown as "
                "processing forever; purge '" +
                context.options.job_queue + "' instead");
    }
    auto purged = purge_queue(context, *name);
    if (!purged) {
        bool missing = purged.error().code == broker::Errc::queue_not_found;
        return management_error(missing ? Status::not_found : Status::service_unavailable,
                                missing ? "not_found" : "unavailable", purged.error().message);
    }
    return make_response(Status::no_content, "", "application/json");
}

void schedule_sample(std::weak_ptr<ManagementState> weak, FrontendContext* context) {
    auto state = weak.lock();
    if (!state || !state->sampling) return;
    state->rates.record(context->broker.list_queues(), QueueRates::Clock::now());
    sample_client_counters(*context);
    state->timer.expires_after(context->options.rate_sample_interval);
    state->timer.async_wait([weak, context](const boost::system::error_code& error) {
        if (!error) schedule_sample(weak, context);
    });
}

}  // namespace

std::string node_name() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) return "imgbus@localhost";
    return std::string("imgbus@") + host;
}

Result<std::string> decoded_param(const PathParams& params, const std::string& name) {
    return percent_decode(params.at(name), false);
}

// Checks the {vhost} segment; only "/" exists.
std::optional<Response> check_vhost(const PathParams& params) {
    auto vhost = decoded_param(params, "vhost");
    if (!vhost) return management_error(Status::bad_request, "bad_request", vhost.error().message);
    if (*vhost != kVhost) {
        return management_error(Status::not_found, "not_found",
                                "virtual host '" + *vhost +
                                    "' does not exist; imgbus has only '/', written %2F in a path");
    }
    return std::nullopt;
}

Response list_response(const Request& request, Json items) {
    auto query = parse_query(request.target());
    if (!query) return management_error(Status::bad_request, "bad_request", query.error().message);
    auto columns = query->find("columns");
    if (columns != query->end()) {
        for (auto& item : items) item = select_columns(item, columns->second);
    }
    return json_response(Status::ok, items);
}

// Wraps a handler so that it runs only for a request with the management credentials.
Handler authenticated(FrontendContext& context,
                      std::function<Response(const Request&, const PathParams&)> handler) {
    return
        [&context, handler = std::move(handler)](const Request& request, const PathParams& params) {
            if (auto refused = check_management_auth(context.options, request)) return *refused;
            return handler(request, params);
        };
}

Response management_error(Status status, std::string_view code, std::string_view message) {
    return json_response(status, {{"error", code}, {"reason", message}, {"message", message}});
}

Result<PurgeOutcome> purge_queue(FrontendContext& context, const std::string& queue) {
    auto purged = context.broker.purge(queue);
    if (!purged) return purged.error();
    PurgeOutcome outcome{*purged, 0};
    if (queue == context.options.job_queue) outcome.jobs_marked = context.tracker->fail_purged();
    module_logger("http")->warn(
        "queue {} purged by an operator: {} messages, {} jobs recorded as "
        "purged",
        queue, outcome.messages, outcome.jobs_marked);
    return outcome;
}

ManagementState::ManagementState(FrontendContext& context)
    : admin(context), timer(boost::asio::make_strand(context.io)) {}

void add_management_routes(Router& router, FrontendContext& context) {
    using beast_http::verb;
    context.management = std::make_shared<ManagementState>(context);
    router.add(verb::get, "/api/ui/queues", [&context](const Request&, const PathParams&) {
        return json_response(Status::ok, queues_json(context));
    });
    router.add(verb::get, "/api/overview",
               authenticated(context, [&context](const Request&, const PathParams&) {
                   return get_overview(context);
               }));
    router.add(verb::get, "/api/queues",
               authenticated(context, [&context](const Request& request, const PathParams&) {
                   return list_response(request, queues_json(context));
               }));
    router.add(verb::get, "/api/queues/{vhost}",
               authenticated(context, [&context](const Request& request, const PathParams& p) {
                   if (auto bad = check_vhost(p)) return *bad;
                   return list_response(request, queues_json(context));
               }));
    router.add(verb::get, "/api/queues/{vhost}/{name}",
               authenticated(context, [&context](const Request&, const PathParams& params) {
                   return get_queue(context, params);
               }));
    router.add(verb::delete_, "/api/queues/{vhost}/{name}/contents",
               authenticated(context, [&context](const Request&, const PathParams& params) {
                   return delete_contents(context, params);
               }));
}

void start_management(FrontendContext& context) {
    auto state = context.management;
    boost::asio::post(state->timer.get_executor(),
                      [weak = std::weak_ptr(state), &context] { schedule_sample(weak, &context); });
}

void stop_management(FrontendContext& context) {
    auto state = context.management;
    state->sampling = false;
    boost::asio::post(state->timer.get_executor(), [state] { state->timer.cancel(); });
    state->admin.shutdown();
}

}  // namespace imgbus::http
