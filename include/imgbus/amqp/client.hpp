// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "imgbus/broker/broker.hpp"
#include "imgbus/result.hpp"

namespace imgbus::amqp {

// Where an external AMQP 0-9-1 broker listens, parsed from
// amqp://USER:PASSWORD@HOST:PORT/VHOST. User, password and vhost are percent-decoded; the
// vhost "/" is written %2F or left empty.
struct BrokerUrl {
    std::string host;
    std::uint16_t port = 5672;
    std::string username;  // empty when the URL has none: the caller supplies one
    std::string password;
    std::string vhost = "/";
    bool has_credentials = false;  // the URL carried user[:password]
};

// Fails with broker::Errc::invalid_argument naming the part that is wrong (scheme, port,
// percent escape) and the expected form. amqps:// is refused: the client has no TLS yet.
Result<BrokerUrl> parse_broker_url(std::string_view url);
// The URL without the password, for log lines: amqp://user@host:port/vhost.
std::string redacted_url(const BrokerUrl& url);

// Reconnect back-off: the delay before attempt n (1-based) is initial × 2^(n-1), capped at
// max, then scaled by a jitter factor in [0.5, 1] so that many clients do not retry together.
struct BackoffOptions {
    std::chrono::milliseconds initial{200};
    std::chrono::milliseconds max{10'000};
};
// `unit_random` is a number in [0, 1); 0 gives half the capped delay, near 1 the full one.
std::chrono::milliseconds backoff_delay(const BackoffOptions& options, int attempt,
                                        double unit_random);

struct ClientOptions {
    BackoffOptions backoff;
    std::chrono::seconds heartbeat{30};        // AMQP heartbeat; 0 turns it off
    std::chrono::seconds connect_timeout{10};  // TCP connect, handshake and each RPC
    std::chrono::seconds confirm_timeout{30};  // publish waits this long for the broker's ack
    std::string connection_name = "imgbus";    // shown by RabbitMQ's management UI
    // Called on the client's I/O thread before each reconnect attempt (not the first connect),
    // with the attempt number; it must not block. The CLI counts grayscale_reconnect_attempts.
    std::function<void(int attempt)> on_reconnect_attempt;
};

// A Broker whose queues live on an external AMQP 0-9-1 broker (RabbitMQ, or another imgbus
// serve's --amqp listener). It implements the queue API of the worker and the frontend:
// declare_queue, delete_queue, publish (persistent, waits for the publisher confirm), consume
// (one channel per consumer, basic.qos prefetch), ack/nack/reject, purge and queue_stats
// (passive declare: ready messages and consumers; unacked is not known). The AMQP-style second
// half of Broker answers not_supported.
//
// It keeps one connection and reconnects on its own with backoff_delay() after a loss. While
// the connection is down every call fails at once with broker::Errc::unavailable. After a
// reconnect it declares again every queue declared through it and consumes again with every
// consumer, under the same consumer tags. Deliveries made on a lost connection cannot be
// settled any more: ack/nack/reject of their tags fail with unavailable, and the broker
// redelivers those messages.
class RemoteBroker : public broker::Broker {
  public:
    // Waits until a connection is up (true) or the timeout passes (false).
    virtual bool wait_connected(std::chrono::milliseconds timeout) = 0;
    virtual bool connected() const = 0;
    // The URL without the password.
    virtual const std::string& describe() const = 0;
};

// Starts the client's I/O thread, which connects in the background and retries with back-off;
// use wait_connected() to wait for the first connection. `url.username` must be set. Fails
// when this binary was built without librabbitmq (rabbitmq-c).
Result<std::unique_ptr<RemoteBroker>> open_remote_broker(BrokerUrl url, ClientOptions options);

}  // namespace imgbus::amqp
