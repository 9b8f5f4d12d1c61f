// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <mutex>

#include "imgbus/http/frontend.hpp"
#include "job_tracker.hpp"
#include "router.hpp"

namespace imgbus::http {

struct ManagementState;
class RetentionSweeper;

// What the request handlers share: the services, the options and the job table.
struct FrontendContext {
    boost::asio::io_context& io;
    broker::Broker& broker;
    store::ObjectStore& store;
    metrics::Metrics& metrics;
    FrontendOptions options;
    std::shared_ptr<JobTracker> tracker;

    std::mutex probe_mutex;
    ReadinessProbe readiness_probe;

    // Set by an operator (POST /api/admin/intake, an ordered restart) through
    // set_intake_paused(): uploads get 503 and AMQP publishes to the job queue are held.
    std::atomic<bool> intake_paused{false};
    std::shared_ptr<ManagementState> management;  // created by add_management_routes
    std::shared_ptr<RetentionSweeper> retention;  // started with the frontend
};

// Pauses or resumes intake: uploads get 503 while paused, the imgbus_intake_paused gauge
// follows, and AdminHooks::intake_paused holds or releases AMQP publishes to the job queue.
void set_intake_paused(FrontendContext& context, bool paused);

// Each adds its routes to the router; the handlers keep a reference to the context.
void add_jobs_routes(Router& router, FrontendContext& context);
void add_info_routes(Router& router, FrontendContext& context);
void add_asset_routes(Router& router);
void add_benchmark_routes(Router& router, FrontendContext& context);

// Maps a store failure to a response: 404 for a missing object, 503 otherwise.
Response store_error_response(const Error& error, std::string_view what);

}  // namespace imgbus::http
