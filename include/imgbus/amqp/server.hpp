// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "imgbus/broker/clients.hpp"
#include "imgbus/result.hpp"

namespace imgbus::amqp {

// Settings of the AMQP 0-9-1 listener. The tune values are what the server proposes; a client
// may ask for less, never more.
struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5672;  // 0 picks a free port
    std::string username;       // PLAIN credentials every client must present
    std::string password;

    std::uint16_t channel_max = 2047;
    std::uint32_t frame_max_bytes = 131072;
    std::uint16_t heartbeat_seconds = 60;  // 0 disables heartbeats
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds close_timeout{3};  // wait for close-ok before dropping the socket

    std::size_t max_connections = 1024;
    std::size_t max_message_bytes = std::size_t{16} << 20;  // body of one published message
    // Publishes of one channel waiting for their confirm; at this count the connection stops
    // reading until confirms come back (back-pressure, as RabbitMQ's credit flow does).
    std::size_t max_unconfirmed_per_channel = 65536;
    // Bytes queued for the socket above which the connection stops reading from the client, and
    // the hard cap above which it is dropped (a client that never reads its deliveries).
    std::size_t write_pause_bytes = std::size_t{4} << 20;
    std::size_t max_write_buffer_bytes = std::size_t{256} << 20;
    // Reads of a publish stream in batches. After a read that contained two or more publishes and
    // no other method, on a connection with no channel in confirm mode, the next read waits until
    // this many bytes are buffered (SO_RCVLOWAT) or publish_batch_wait has passed. With 0, every
    // read starts as soon as a byte arrives. See docs/amqp.md, Publish streams.
    int publish_batch_bytes = 128 * 1024;
    std::chrono::microseconds publish_batch_wait{200};
    // Reads of an ack stream in batches. A read that contained two or more basic.ack of single
    // delivery tags and no other method starts a batch. The next read waits for this many acks
    // at most, and for at most a quarter of the smallest prefetch window of the connection's
    // consumers. publish_batch_wait ends the wait too. With 0, acks are read as they arrive.
    // See docs/amqp.md, Ack streams.
    std::size_t ack_batch_max = 64;
};

// The AMQP 0-9-1 listener: accepts connections on the io_context and maps each channel onto a
// broker session. Connections run on their own strands, so the io_context may run on several
// threads. start() and stop() are called from one thread.
class Server {
  public:
    Server(boost::asio::io_context& io, broker::Broker& broker, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting; returns the bound endpoint (the real port when port was 0).
    // Fails with the address and the reason when the bind fails.
    Result<boost::asio::ip::tcp::endpoint> start();

    // Stops accepting and closes every connection with 320 CONNECTION_FORCED; unacked messages
    // go back to their queues. Returns at once; the connections finish on the io_context.
    void stop();

    // Holds every publish that routes to `queue` (see docs/operations.md, pausing intake): the
    // publishing connection gets connection.blocked with `reason` and is not read from until
    // release_publishes(), which publishes the held messages. Callable from any thread.
    void hold_publishes(std::string queue, std::string reason);
    void release_publishes();

    // Open connections, for tests and status output.
    std::size_t connection_count() const;
    // A snapshot of every connection and its channels, for the management API. Callable from
    // any thread; it takes the listener's lock and each connection's statistics lock briefly.
    std::vector<broker::ConnectionInfo> connections() const;

    struct State;  // defined in server.cpp; public so that the accept loop can name it

  private:
    std::shared_ptr<State> state_;
};

}  // namespace imgbus::amqp
