// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "imgbus/amqp/client.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/s3/server.hpp"

namespace imgbus::cli {

// Opens the client of an external broker given as amqp://USER:PASSWORD@HOST:PORT/VHOST. When
// the URL carries no user, IMGBUS_BROKER_USER and IMGBUS_BROKER_PASSWORD are used, else
// `fallback` (the key pair of an imgbus serve, whose AMQP listener takes the same pair), else
// guest/guest. Each reconnect attempt increments grayscale_reconnect_attempts_total.
Result<std::unique_ptr<amqp::RemoteBroker>> open_remote_broker(
    const std::string& url, const std::optional<s3::Credentials>& fallback,
    metrics::Metrics& metrics);

// Waits for the broker's first connection, saying every few seconds that it still waits.
// Returns false when `stop_requested` turned true first.
bool wait_for_broker(amqp::RemoteBroker& broker, const std::function<bool()>& stop_requested);

}  // namespace imgbus::cli
