// SPDX-License-Identifier: MIT
// Read-only routes: operations, configuration, metrics, health and the web UI assets.
#include <boost/beast/http/field.hpp>
#include <thread>

#include "context.hpp"
#include "imgbus/imaging/operation.hpp"
#include "web_assets.hpp"

#ifndef IMGBUS_VERSION
#define IMGBUS_VERSION "unknown"
#endif

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;

// A choice parameter shows its words and the default word instead of a numeric range.
nlohmann::json param_json(const imaging::ParamSpec& param) {
    using Type = imaging::ParamSpec::Type;
    if (param.type == Type::choice) {
        const auto index = static_cast<std::size_t>(param.default_value);
        return {{"name", param.name},
                {"type", "choice"},
                {"default", index < param.choices.size() ? param.choices[index] : ""},
                {"choices", param.choices},
                {"description", param.description}};
    }
    return {{"name", param.name},
            {"type", param.type == Type::integer ? "integer" : "number"},
            {"default", param.default_value},
            {"min", param.min_value},
            {"max", param.max_value},
            {"description", param.description}};
}

Response get_operations() {
    nlohmann::json operations = nlohmann::json::array();
    for (const auto* operation : imaging::OperationRegistry::global().list()) {
        nlohmann::json params = nlohmann::json::array();
        for (const auto& param : operation->params) {
            params.push_back(param_json(param));
        }
        operations.push_back({{"name", operation->name},
                              {"description", operation->description},
                              {"params", std::move(params)}});
    }
    return json_response(Status::ok, {{"operations", std::move(operations)}});
}

Response get_config(const FrontendContext& context) {
    const auto& options = context.options;
    return json_response(Status::ok, {{"version", IMGBUS_VERSION},
                                      {"hardware_threads", std::thread::hardware_concurrency()},
                                      {"workers", options.workers},
                                      {"limits",
                                       {{"max_upload_bytes", options.max_upload_bytes},
                                        {"max_pixels", options.decode_limits.max_pixels},
                                        {"max_dimension", options.decode_limits.max_dimension},
                                        {"max_threads_per_job", options.max_threads_per_job},
                                        {"max_runs", options.max_runs},
                                        {"max_passes", options.max_passes},
                                        {"max_jobs_per_upload", options.max_jobs_per_upload}}}});
}

Response get_metrics(FrontendContext& context) {
    for (const auto& stats : context.broker.list_queues()) {
        context.metrics.queue_messages_ready(stats.name)
            .Set(static_cast<double>(stats.messages_ready));
        context.metrics.queue_messages_unacked(stats.name)
            .Set(static_cast<double>(stats.messages_unacknowledged));
        context.metrics.queue_consumers(stats.name).Set(static_cast<double>(stats.consumers));
    }
    return make_response(Status::ok, context.metrics.serialize(),
                         "text/plain; version=0.0.4; charset=utf-8");
}

Response get_readyz(FrontendContext& context) {
    std::vector<std::string> reasons;
    if (auto stats = context.broker.queue_stats(context.options.job_queue); !stats) {
        reasons.push_back("broker: " + stats.error().message);
    }
    if (!context.store.bucket_exists(context.options.bucket)) {
        reasons.push_back("store: bucket '" + context.options.bucket + "' is not reachable");
    }
    ReadinessProbe probe;
    {
        std::lock_guard lock(context.probe_mutex);
        probe = context.readiness_probe;
    }
    if (probe) {
        if (auto reason = probe(); !reason.empty()) reasons.push_back(reason);
    }
    if (reasons.empty()) return json_response(Status::ok, {{"status", "ready"}});
    return json_response(Status::service_unavailable,
                         {{"status", "not_ready"}, {"reasons", reasons}});
}

std::string_view asset_content_type(std::string_view name) {
    auto dot = name.rfind('.');
    auto extension = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    if (extension == "html") return "text/html; charset=utf-8";
    if (extension == "js") return "text/javascript; charset=utf-8";
    if (extension == "css") return "text/css; charset=utf-8";
    if (extension == "svg") return "image/svg+xml";
    if (extension == "json") return "application/json";
    if (extension == "png") return "image/png";
    return "application/octet-stream";
}

Response asset_response(const WebAsset& asset) {
    auto response =
        make_response(Status::ok, std::string(asset.content), asset_content_type(asset.name));
    // HTML revalidates so a new binary's UI shows at once; the rest may be cached briefly.
    bool html = asset.name.ends_with(".html");
    response.set(beast_http::field::cache_control, html ? "no-cache" : "public, max-age=300");
    response.set("X-Content-Type-Options", "nosniff");
    return response;
}

}  // namespace

void add_info_routes(Router& router, FrontendContext& context) {
    using beast_http::verb;
    router.add(verb::get, "/api/operations",
               [](const Request&, const PathParams&) { return get_operations(); });
    router.add(verb::get, "/api/config",
               [&context](const Request&, const PathParams&) { return get_config(context); });
    router.add(verb::get, "/metrics",
               [&context](const Request&, const PathParams&) { return get_metrics(context); });
    router.add(verb::get, "/healthz", [](const Request&, const PathParams&) {
        return json_response(Status::ok, {{"status", "ok"}});
    });
    router.add(verb::get, "/readyz",
               [&context](const Request&, const PathParams&) { return get_readyz(context); });
}

void add_asset_routes(Router& router) {
    using beast_http::verb;
    for (const auto& asset : web_assets()) {
        router.add(verb::get, "/" + std::string(asset.name),
                   [&asset](const Request&, const PathParams&) { return asset_response(asset); });
        if (asset.name == "index.html") {
            router.add(verb::get, "/", [&asset](const Request&, const PathParams&) {
                return asset_response(asset);
            });
        }
    }
}

}  // namespace imgbus::http
