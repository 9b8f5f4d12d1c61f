// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "connection_stats.hpp"
#include "imgbus/amqp/content.hpp"
#include "imgbus/amqp/frame.hpp"
#include "imgbus/amqp/method.hpp"
#include "imgbus/amqp/server.hpp"
#include "imgbus/broker/broker.hpp"
#include "publish_hold.hpp"

namespace imgbus::amqp {

// One client connection. The protocol, in order:
//
//   client: protocol header "AMQP 0 0 9 1"   server: connection.start (PLAIN, capabilities)
//   client: start-ok (PLAIN credentials)     server: connection.tune (channel-max, frame-max,
//   client: tune-ok                                  heartbeat), or close 403 on bad credentials
//   client: connection.open (vhost "/")      server: open-ok
//   ... channels: each channel.open gets its own broker session (delivery tags from 1, qos,
//       requeue of unacked on close) ...
//   either side: connection.close, the other replies with close-ok, then the socket closes.
//
// Threads. Everything in this class runs on the connection's strand, except push_event(),
// which the broker's delivery, confirm, cancel and blocked handlers call from any thread: it
// appends to inbox_ under inbox_mutex_ and posts one drain to the strand. Draining after the
// current frame is handled keeps the order AMQP requires: consume-ok before the first
// basic.deliver, basic.return before the publish's confirm.
//
// Errors. A handler returns an Error whose code is an amqp::Errc. Codes of 500 and above (and
// any error on channel 0) close the connection: connection.close is sent, later frames are
// ignored until close-ok or the close timeout. Lower codes close only the channel.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    using tcp = boost::asio::ip::tcp;
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;

    Connection(tcp::socket socket, broker::Broker& broker, const ServerOptions& options,
               const PublishHold& hold, std::uint64_t id);

    // Starts the reader, writer and timer coroutines on the strand. `on_end` runs on the
    // strand once the socket is closed and the broker state released.
    void start(std::function<void()> on_end);
    // Sends connection.close 320 CONNECTION_FORCED from any thread.
    void shut_down(std::string reason);
    // From any thread, after the hold was released: publishes the held message, if any, and
    // reads again.
    void release_hold();

    std::uint64_t id() const { return id_; }
    // What the management API shows; callable from any thread.
    broker::ConnectionInfo snapshot() const { return stats_.snapshot(); }

  private:
    // What a basic.deliver needs of a broker::Delivery: cheap to move between threads, and the
    // message shared with the broker instead of copied.
    struct OutgoingDelivery {
        explicit OutgoingDelivery(broker::Delivery&& delivery)
            : consumer_tag(std::move(delivery.consumer_tag)),
              delivery_tag(delivery.delivery_tag),
              redelivered(delivery.redelivered),
              exchange(std::move(delivery.exchange)),
              routing_key(std::move(delivery.routing_key)),
              message(delivery.shared_message
                          ? std::move(delivery.shared_message)
                          : std::make_shared<const broker::Message>(std::move(delivery.message))) {}
        std::string consumer_tag;
        std::uint64_t delivery_tag = 0;
        bool redelivered = false;
        std::string exchange;
        std::string routing_key;
        std::shared_ptr<const broker::Message> message;
    };

    struct PendingPublish {
        BasicPublish method;
        std::optional<ContentHeader> header;
        std::string body;
    };

    struct Channel {
        std::uint16_t number = 0;
        broker::SessionId session = 0;
        bool closing = false;  // server sent channel.close, waiting for close-ok
        bool flow_active = true;
        bool confirm_mode = false;
        std::uint64_t next_publish_seq = 1;
        std::size_t unconfirmed = 0;
        std::uint64_t generation = 0;  // distinguishes a reopened channel number
        std::optional<PendingPublish> pending;
        std::set<std::string> consumers;
        std::set<std::string> no_ack_consumers;
        // prefetch_count of the last basic.qos (0: no limit), and the smallest window of the
        // channel's consumers, for ack batching (read_batch.cpp).
        std::uint16_t qos_prefetch = 0;
        std::uint32_t consumer_window = 0;
        std::deque<OutgoingDelivery> held;    // deliveries kept back while flow is inactive
        std::shared_ptr<ChannelStats> stats;  // shared with stats_ for snapshots
    };

    struct ParkedPublish {
        std::uint16_t channel = 0;
        std::uint64_t generation = 0;
        PendingPublish pending;
    };

    struct ConfirmEvent {
        std::uint16_t channel = 0;
        std::uint64_t generation = 0;
        std::uint64_t seq = 0;
        bool ack = true;
    };
    struct DeliveryEvent {
        // A constructor, so that the event is built in place in the inbox (clang 14 has no
        // parenthesized aggregate initialization).
        DeliveryEvent(std::uint16_t channel, std::uint64_t generation, broker::Delivery&& delivery)
            : channel(channel), generation(generation), delivery(std::move(delivery)) {}
        std::uint16_t channel = 0;
        std::uint64_t generation = 0;
        OutgoingDelivery delivery;
    };
    struct CancelEvent {
        std::uint16_t channel = 0;
        std::uint64_t generation = 0;
        std::string consumer_tag;
    };
    struct BlockedEvent {
        bool blocked = false;
    };
    using Event = std::variant<ConfirmEvent, DeliveryEvent, CancelEvent, BlockedEvent>;

    enum class State { start_ok, tune_ok, open_wait, open, closing, closed };

    // connection.cpp: I/O, handshake, connection class, close
    boost::asio::awaitable<void> run_reader();
    boost::asio::awaitable<void> run_writer();
    boost::asio::awaitable<void> run_heartbeat();
    boost::asio::awaitable<bool> fill(std::size_t bytes);
    bool has_bytes(std::size_t bytes) const { return read_end_ - read_begin_ >= bytes; }
    boost::asio::awaitable<void> wait_until_readable();
    Result<void> handle_frame(FrameType type, std::uint16_t channel,
                              std::span<const std::uint8_t> payload);
    Result<void> handle_connection_method(Method& method);
    Result<void> handle_start_ok(ConnectionStartOk& start_ok);
    Result<void> handle_tune_ok(const ConnectionTuneOk& tune_ok);
    Result<void> handle_open(const ConnectionOpen& open);
    void send_start();
    void send_method(std::uint16_t channel, const Method& method);
    void close_connection(const Error& error, MethodId failing);
    void close_socket();
    void release_broker_state();
    void push_event(Event&& event);
    void drain_events();
    void handle_event(Event& event);
    bool reading_paused() const;
    void wake(boost::asio::steady_timer& timer);

    // read_batch.cpp: reads of a publish or ack stream gathered into batches
    void update_batching();
    bool confirming() const;
    int ack_batch_bytes() const;
    void note_window(Channel& channel, std::uint16_t prefetch);
    boost::asio::awaitable<void> wait_for_batch();
    void set_low_water(int bytes);

    // channel.cpp: channel, exchange, queue, basic and confirm classes
    Result<void> handle_channel_frame(std::uint16_t number, FrameType type,
                                      std::span<const std::uint8_t> payload);
    Result<void> handle_channel_method(Channel& channel, Method& method);
    Result<void> open_channel(std::uint16_t number);
    void close_channel(Channel& channel, const Error& error, MethodId failing);
    void fail_channel(Channel& channel, const Error& error, MethodId failing);
    void release_channel(Channel& channel);
    Result<void> handle_exchange_method(Channel& channel, Method& method);
    Result<void> handle_queue_method(Channel& channel, Method& method);
    Result<void> handle_basic_method(Channel& channel, Method& method);
    Result<void> handle_consume(Channel& channel, BasicConsume& consume);
    Result<void> handle_cancel(Channel& channel, const BasicCancel& cancel);
    Result<void> handle_get(Channel& channel, const BasicGet& get);
    Result<void> handle_content(Channel& channel, FrameType type,
                                std::span<const std::uint8_t> payload);
    Result<void> finish_publish(Channel& channel);
    Result<void> publish_now(Channel& channel, PendingPublish pending);

    // publish_hold.cpp: publishes held while an operator pauses intake
    void park_publish(Channel& channel, PendingPublish pending);
    void publish_parked();
    void send_delivery(Channel& channel, OutgoingDelivery&& delivery);
    void send_content(std::uint16_t channel, const broker::Message& message);
    Channel* find_channel(std::uint16_t number, std::uint64_t generation);

    tcp::socket socket_;
    Strand strand_;
    broker::Broker& broker_;
    const ServerOptions& options_;
    const PublishHold& hold_;
    const std::uint64_t id_;
    const std::string owner_;  // the broker's name for this connection (exclusive queues)
    std::string peer_;
    std::function<void()> on_end_;
    ConnectionStats stats_;

    State state_ = State::start_ok;
    std::uint16_t channel_max_ = 0;
    std::uint32_t frame_max_ = kMinFrameMax;
    std::uint16_t heartbeat_seconds_ = 0;
    bool client_wants_blocked_ = false;
    bool client_wants_auth_failure_close_ = false;
    bool client_wants_cancel_notify_ = false;
    bool blocked_ = false;
    std::uint64_t blocked_listener_ = 0;
    std::uint64_t next_generation_ = 1;
    std::map<std::uint16_t, Channel> channels_;
    std::optional<ParkedPublish> parked_;  // a held publish; nothing is read while it waits

    // Read buffer: bytes [read_begin_, read_end_) of read_buffer_ are received and unparsed.
    std::vector<std::uint8_t> read_buffer_;
    std::size_t read_begin_ = 0;
    std::size_t read_end_ = 0;

    // Batched reads (read_batch.cpp). The counts cover the frames handled since the last read.
    std::size_t methods_read_ = 0;
    std::size_t publishes_read_ = 0;
    std::size_t acks_read_ = 0;  // basic.ack of one delivery tag (multiple=false)
    bool batching_ = false;
    int batch_bytes_ = 1;  // the mark that wait_for_batch() sets
    int low_water_ = 1;    // the socket's SO_RCVLOWAT
    boost::asio::steady_timer batch_timer_;

    std::string write_buffer_;  // frames waiting for the writer
    bool writer_waiting_ = false;
    bool close_when_flushed_ = false;  // close the socket once write_buffer_ is sent
    boost::asio::steady_timer write_signal_;
    boost::asio::steady_timer read_signal_;  // woken when a paused reader may go on
    boost::asio::steady_timer close_timer_;
    std::chrono::steady_clock::time_point last_read_;
    std::chrono::steady_clock::time_point last_write_;

    std::mutex inbox_mutex_;
    std::vector<Event> inbox_;     // guarded by inbox_mutex_
    bool drain_posted_ = false;    // guarded by inbox_mutex_
    std::vector<Event> draining_;  // the strand's batch; swapped with inbox_ to keep capacity
};

// Maps a broker error to the AMQP reply code and text ("NOT_FOUND - no queue 'x'").
Error to_amqp_error(const Error& broker_error);
// Converts between AMQP basic properties and the broker's message.
broker::Message to_message(BasicProperties properties, std::string body);
BasicProperties to_properties(const broker::Message& message);

}  // namespace imgbus::amqp
