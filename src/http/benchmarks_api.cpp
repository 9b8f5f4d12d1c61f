// SPDX-License-Identifier: MIT
// The last benchmark that `imgbus bench` sent: PUT stores its JSON in the store, GET returns it
// to the web UI's benchmark page.
#include <boost/beast/http/field.hpp>
#include <span>

#include "context.hpp"
#include "imgbus/log.hpp"

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;

constexpr const char* kLatestKey = "benchmarks/latest.json";
constexpr std::size_t kMaxReportBytes = 4U << 20;
constexpr const char* kReportFormat = "imgbus-bench/1";

Response put_latest(FrontendContext& context, const Request& request) {
    if (request.body().size() > kMaxReportBytes) {
        return error_response(Status::payload_too_large, "payload_too_large",
                              "benchmark report of " + std::to_string(request.body().size()) +
                                  " bytes is over the limit of 4 MiB; use fewer steps");
    }
    const auto report = nlohmann::json::parse(request.body(), nullptr, false);
    if (!report.is_object() || report.value("format", "") != kReportFormat ||
        !report.contains("steps") || !report["steps"].is_array()) {
        return error_response(Status::bad_request, "bad_request",
                              std::string("the body is not a benchmark report; send the JSON that "
                                          "imgbus bench writes (format ") +
                                  kReportFormat + " with a steps list)");
    }
    store::PutOptions options;
    options.content_type = "application/json";
    const auto& body = request.body();
    auto stored = context.store.put_object(
        context.options.bucket, kLatestKey,
        std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), options);
    if (!stored) {
        return store_error_response(stored.error(), "storing the benchmark report");
    }
    module_logger("http")->info("benchmark report stored: {} steps, generated at {}",
                                report["steps"].size(), report.value("generated_at", "?"));
    return json_response(Status::ok, {{"stored", kLatestKey}, {"steps", report["steps"].size()}});
}

Response get_latest(FrontendContext& context) {
    auto object = context.store.get_object(context.options.bucket, kLatestKey);
    if (!object && object.error().code == store::Errc::no_such_key) {
        return error_response(Status::not_found, "not_found",
                              "no benchmark has been sent to this server yet; run imgbus bench "
                              "IMAGE --url with this server's address");
    }
    if (!object) {
        return store_error_response(object.error(), "reading the benchmark report");
    }
    auto response = make_response(Status::ok, std::string(object->data.begin(), object->data.end()),
                                  "application/json");
    response.set(beast_http::field::cache_control, "no-cache");
    return response;
}

}  // namespace

void add_benchmark_routes(Router& router, FrontendContext& context) {
    router.add(beast_http::verb::put, "/api/benchmarks/latest",
               [&context](const Request& request, const PathParams&) {
                   return put_latest(context, request);
               });
    router.add(beast_http::verb::get, "/api/benchmarks/latest",
               [&context](const Request&, const PathParams&) { return get_latest(context); });
}

}  // namespace imgbus::http
