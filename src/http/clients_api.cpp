// SPDX-License-Identifier: MIT
// The management API's client routes: /api/connections, /api/channels and /api/consumers with
// RabbitMQ's field names, from the AMQP listener's snapshot (AdminHooks::connections) and the
// broker's consumers and sessions. Consumers inside the process (the worker pool, the frontend's
// event consumer) have no connection; their channel_details name them "in-process".
#include <map>
#include <variant>

#include "context.hpp"
#include "management.hpp"

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;
using Json = nlohmann::json;
using broker::ChannelInfo;
using broker::ConnectionInfo;

constexpr std::string_view kInProcess = "in-process";

Json field_value_json(const broker::FieldValue& value);

Json field_table_json(const broker::FieldTable& table) {
    Json object = Json::object();
    for (const auto& entry : table.entries()) object[entry.name] = field_value_json(entry.value);
    return object;
}

// Converts an AMQP field value as RabbitMQ's management plugin shows it: numbers, strings,
// booleans, nested objects and arrays. A decimal becomes a number, a timestamp its seconds.
Json field_value_json(const broker::FieldValue& value) {
    return std::visit(
        [](const auto& v) -> Json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return nullptr;
            } else if constexpr (std::is_same_v<T, broker::Decimal>) {
                double scaled = v.value;
                for (int i = 0; i < v.scale; ++i) scaled /= 10;
                return scaled;
            } else if constexpr (std::is_same_v<T, broker::Timestamp>) {
                return v.seconds;
            } else if constexpr (std::is_same_v<T, broker::Bytes>) {
                return v.data;
            } else if constexpr (std::is_same_v<T, broker::FieldTable>) {
                return field_table_json(v);
            } else if constexpr (std::is_same_v<T, broker::FieldArray>) {
                Json array = Json::array();
                for (const auto& item : v) array.push_back(field_value_json(item));
                return array;
            } else {
                return v;
            }
        },
        value.value);
}

std::string channel_name(const ConnectionInfo& connection, const ChannelInfo& channel) {
    return connection.name() + " (" + std::to_string(channel.number) + ")";
}

std::int64_t epoch_milliseconds(std::chrono::system_clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

// The counters of a channel by RabbitMQ's message_stats names, deliver_get included.
CounterRates::Counters channel_counters(const broker::ChannelCounters& c) {
    return {{"publish", c.publish},
            {"confirm", c.confirm},
            {"return_unroutable", c.return_unroutable},
            {"drop_unroutable", c.drop_unroutable},
            {"deliver", c.deliver},
            {"deliver_no_ack", c.deliver_no_ack},
            {"get", c.get},
            {"get_no_ack", c.get_no_ack},
            {"get_empty", c.get_empty},
            {"deliver_get", c.deliver + c.deliver_no_ack + c.get + c.get_no_ack},
            {"ack", c.ack},
            {"redeliver", c.redeliver}};
}

CounterRates::Counters connection_counters(const ConnectionInfo& connection) {
    return {{"recv_oct", connection.recv_oct}, {"send_oct", connection.send_oct}};
}

// Everything one request needs, read once: the listener's connections and the broker's
// sessions, joined by session id.
struct ClientView {
    std::vector<ConnectionInfo> connections;
    std::map<broker::SessionId, broker::SessionInfo> sessions;
    std::map<broker::SessionId, std::pair<const ConnectionInfo*, const ChannelInfo*>> channels;
};

ClientView read_clients(FrontendContext& context) {
    ClientView view;
    auto hooks = context.management->admin.hooks();
    if (hooks.connections) view.connections = hooks.connections();
    for (auto& session : context.broker.list_sessions()) {
        view.sessions.emplace(session.id, std::move(session));
    }
    for (const auto& connection : view.connections) {
        for (const auto& channel : connection.channels) {
            view.channels[channel.session] = {&connection, &channel};
        }
    }
    return view;
}

Json connection_json(FrontendContext& context, const ConnectionInfo& c) {
    const auto& rates = context.management->client_rates;
    const auto name = c.name();
    return {{"name", name},
            {"node", node_name()},
            {"type", "network"},
            {"protocol", c.protocol},
            {"state", c.state},
            {"user", c.user},
            {"vhost", c.vhost},
            {"host", c.host},
            {"port", c.port},
            {"peer_host", c.peer_host},
            {"peer_port", c.peer_port},
            {"ssl", false},
            {"auth_mechanism", c.auth_mechanism},
            {"connected_at", epoch_milliseconds(c.connected_at)},
            {"timeout", c.heartbeat_seconds},
            {"frame_max", c.frame_max},
            {"channel_max", c.channel_max},
            {"channels", c.channels.size()},
            {"client_properties", field_table_json(c.client_properties)},
            {"recv_oct", c.recv_oct},
            {"recv_oct_details", {{"rate", rates.rate("connection " + name, "recv_oct")}}},
            {"send_oct", c.send_oct},
            {"send_oct_details", {{"rate", rates.rate("connection " + name, "send_oct")}}},
            {"recv_cnt", c.recv_cnt},
            {"send_cnt", c.send_cnt}};
}

Json channel_json(FrontendContext& context, const ClientView& view, const ConnectionInfo& c,
                  const ChannelInfo& channel) {
    const auto name = channel_name(c, channel);
    broker::SessionInfo session;
    if (auto found = view.sessions.find(channel.session); found != view.sessions.end()) {
        session = found->second;
    }
    Json stats = Json::object();
    for (const auto& [counter, value] : channel_counters(channel.counters)) {
        stats[counter] = value;
        stats[counter + "_details"] = {
            {"rate", context.management->client_rates.rate("channel " + name, counter)}};
    }
    return {{"name", name},
            {"number", channel.number},
            {"node", node_name()},
            {"user", c.user},
            {"vhost", c.vhost},
            {"state", c.state == "blocked" ? "flow" : "running"},
            {"connection_details",
             {{"name", c.name()}, {"peer_host", c.peer_host}, {"peer_port", c.peer_port}}},
            {"consumer_count", session.consumer_count},
            {"messages_unacknowledged", session.messages_unacknowledged},
            {"messages_unconfirmed", channel.messages_unconfirmed},
            {"messages_uncommitted", 0},
            {"acks_uncommitted", 0},
            {"prefetch_count", session.prefetch_count},
            {"global_prefetch_count", session.global_prefetch_count},
            {"confirm", channel.confirm},
            {"transactional", false},
            {"message_stats", std::move(stats)}};
}

// An in-process consumer has no connection: its channel is named after its role.
Json in_process_channel_details(FrontendContext& context, const broker::ConsumerInfo& consumer) {
    std::string role = "in-process consumer";
    if (consumer.queue == context.options.job_queue) role = "in-process worker pool";
    if (consumer.queue == context.options.event_queue) role = "in-process frontend";
    return {{"name", role},
            {"number", 0},
            {"connection_name", kInProcess},
            {"peer_host", kInProcess},
            {"peer_port", 0},
            {"user", ""},
            {"node", node_name()}};
}

Json consumer_json(FrontendContext& context, const ClientView& view,
                   const broker::ConsumerInfo& consumer) {
    Json channel_details;
    auto found = view.channels.find(consumer.session);
    if (consumer.session != 0 && found != view.channels.end()) {
        const auto& [connection, channel] = found->second;
        channel_details = {{"name", channel_name(*connection, *channel)},
                           {"number", channel->number},
                           {"connection_name", connection->name()},
                           {"peer_host", connection->peer_host},
                           {"peer_port", connection->peer_port},
                           {"user", connection->user},
                           {"node", node_name()}};
    } else {
        channel_details = in_process_channel_details(context, consumer);
    }
    return {{"consumer_tag", consumer.consumer_tag},
            {"queue", {{"name", consumer.queue}, {"vhost", "/"}}},
            {"channel_details", std::move(channel_details)},
            {"ack_required", !consumer.no_ack},
            {"prefetch_count", consumer.prefetch_count},
            {"exclusive", consumer.exclusive},
            {"active", true},
            {"activity_status", "up"},
            {"arguments", Json::object()}};
}

Json connections_json(FrontendContext& context, const ClientView& view) {
    Json items = Json::array();
    for (const auto& connection : view.connections) {
        items.push_back(connection_json(context, connection));
    }
    return items;
}

// Channels of every connection, or of the one named `only`.
Json channels_json(FrontendContext& context, const ClientView& view,
                   const std::string* only = nullptr) {
    Json items = Json::array();
    for (const auto& connection : view.connections) {
        if (only && connection.name() != *only) continue;
        for (const auto& channel : connection.channels) {
            items.push_back(channel_json(context, view, connection, channel));
        }
    }
    return items;
}

Json consumers_json(FrontendContext& context, const ClientView& view) {
    Json items = Json::array();
    for (const auto& consumer : context.broker.list_consumers()) {
        items.push_back(consumer_json(context, view, consumer));
    }
    return items;
}

Response not_found(const std::string& what, const std::string& name) {
    return management_error(
        Status::not_found, "not_found",
        what + " '" + name + "' does not exist; list them with GET /api/" + what + "s");
}

Response get_connection(FrontendContext& context, const PathParams& params, bool channels) {
    auto name = decoded_param(params, "name");
    if (!name) return management_error(Status::bad_request, "bad_request", name.error().message);
    auto view = read_clients(context);
    for (const auto& connection : view.connections) {
        if (connection.name() != *name) continue;
        if (channels) return json_response(Status::ok, channels_json(context, view, &*name));
        return json_response(Status::ok, connection_json(context, connection));
    }
    return not_found("connection", *name);
}

Response get_channel(FrontendContext& context, const PathParams& params) {
    auto name = decoded_param(params, "name");
    if (!name) return management_error(Status::bad_request, "bad_request", name.error().message);
    auto view = read_clients(context);
    for (const auto& connection : view.connections) {
        for (const auto& channel : connection.channels) {
            if (channel_name(connection, channel) == *name) {
                return json_response(Status::ok, channel_json(context, view, connection, channel));
            }
        }
    }
    return not_found("channel", *name);
}

using ListBuilder = Json (*)(FrontendContext&, const ClientView&);

// A list route, and with `in_vhost` the same list under a {vhost} segment.
Handler list_route(FrontendContext& context, ListBuilder build, bool in_vhost) {
    return authenticated(
        context, [&context, build, in_vhost](const Request& request, const PathParams& params) {
            if (in_vhost) {
                if (auto bad = check_vhost(params)) return *bad;
            }
            return list_response(request, build(context, read_clients(context)));
        });
}

Json all_channels(FrontendContext& context, const ClientView& view) {
    return channels_json(context, view);
}

}  // namespace

void sample_client_counters(FrontendContext& context) {
    auto hooks = context.management->admin.hooks();
    if (!hooks.connections) return;
    std::map<std::string, CounterRates::Counters> objects;
    for (const auto& connection : hooks.connections()) {
        objects.emplace("connection " + connection.name(), connection_counters(connection));
        for (const auto& channel : connection.channels) {
            objects.emplace("channel " + channel_name(connection, channel),
                            channel_counters(channel.counters));
        }
    }
    context.management->client_rates.record(std::move(objects), CounterRates::Clock::now());
}

void add_client_routes(Router& router, FrontendContext& context) {
    using beast_http::verb;
    router.add(verb::get, "/api/connections", list_route(context, connections_json, false));
    router.add(verb::get, "/api/vhosts/{vhost}/connections",
               list_route(context, connections_json, true));
    router.add(verb::get, "/api/channels", list_route(context, all_channels, false));
    router.add(verb::get, "/api/vhosts/{vhost}/channels", list_route(context, all_channels, true));
    router.add(verb::get, "/api/consumers", list_route(context, consumers_json, false));
    router.add(verb::get, "/api/consumers/{vhost}", list_route(context, consumers_json, true));
    router.add(verb::get, "/api/connections/{name}",
               authenticated(context, [&context](const Request&, const PathParams& params) {
                   return get_connection(context, params, false);
               }));
    router.add(verb::get, "/api/connections/{name}/channels",
               authenticated(context, [&context](const Request&, const PathParams& params) {
                   return get_connection(context, params, true);
               }));
    router.add(verb::get, "/api/channels/{name}",
               authenticated(context, [&context](const Request&, const PathParams& params) {
                   return get_channel(context, params);
               }));
}

}  // namespace imgbus::http
