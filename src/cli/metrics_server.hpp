// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "imgbus/result.hpp"

namespace imgbus::cli {

// What the small HTTP listener of `imgbus worker` answers: GET /metrics with `metrics()` in the
// Prometheus text format, GET /healthz with 200 when `health()` returns "" and 503 with the
// reason otherwise. Everything else is 404. One request per connection, 10 s to send it.
struct MetricsRoutes {
    std::function<std::string()> metrics;
    std::function<std::string()> health;
};

class MetricsServer {
  public:
    MetricsServer(boost::asio::io_context& io, MetricsRoutes routes);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds HOST:PORT (port 0 picks a free one) and returns the bound endpoint.
    Result<boost::asio::ip::tcp::endpoint> start(const std::string& host, std::uint16_t port);
    void stop();

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace imgbus::cli
