// SPDX-License-Identifier: MIT
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "imgbus/amqp/client.hpp"
#include "rabbitmq_library.hpp"

namespace imgbus::amqp::client {

// The rabbitmq-c implementation of RemoteBroker.
//
// Threading. rabbitmq-c is not thread-safe per connection, so exactly one thread, the I/O
// thread (io_main), ever touches `conn_` and everything under "I/O thread only" below. A public
// method wraps its work in a Command, appends it to `commands_` under `mutex_`, wakes the I/O
// thread through `wake_fd_` (an eventfd) and waits for the result on a future. The I/O thread
// polls the socket and the eventfd, runs the queued commands in order and reads frames. A
// method called on the I/O thread itself (a delivery handler that nacks) runs its work inline.
//
// Channels. 1 carries declares, passive declares, purges and deletes; a broker error there
// closes only that channel, which is opened again. 2 carries publishes in confirm mode: publish
// waits until the broker's basic.ack (or nack) for its sequence number. Each consumer owns one
// channel from 3 up with its own basic.qos, so its prefetch is its own.
//
// Delivery tags. AMQP tags count per channel and per connection, so a delivery gets a tag of
// this client, mapped to (connection generation, channel, AMQP tag). A reconnect starts a new
// generation and forgets the old map: settling a delivery of a lost connection fails with
// unavailable and is never sent on the new connection.
//
// Reconnect. A socket error, a missed heartbeat or connection.close ends the connection: pending
// confirms fail with unavailable, and the I/O thread sleeps backoff_delay(attempt) (failing the
// commands that arrive meanwhile), connects, declares the known queues again and starts every
// consumer again.
class RemoteBrokerImpl final : public RemoteBroker {
  public:
    RemoteBrokerImpl(const RabbitmqLibrary& rabbitmq, BrokerUrl url, ClientOptions options);
    ~RemoteBrokerImpl() override;

    bool wait_connected(std::chrono::milliseconds timeout) override;
    bool connected() const override { return connected_; }
    const std::string& describe() const override { return description_; }

    Result<void> declare_queue(const std::string& queue,
                               const broker::QueueOptions& options) override;
    Result<void> delete_queue(const std::string& queue) override;
    Result<void> publish(const std::string& queue, broker::Message message) override;
    Result<std::string> consume(const std::string& queue, std::uint32_t prefetch,
                                broker::DeliveryHandler handler) override;
    Result<void> cancel(const std::string& consumer_tag) override;
    Result<void> ack(std::uint64_t delivery_tag) override;
    Result<void> nack(std::uint64_t delivery_tag, bool requeue) override;
    Result<void> reject(std::uint64_t delivery_tag, bool requeue) override;
    Result<std::size_t> purge(const std::string& queue) override;
    Result<broker::QueueStats> queue_stats(const std::string& queue) override;
    std::vector<broker::QueueStats> list_queues() override;

  private:
    using Command = std::function<void()>;
    using ConfirmPromise = std::shared_ptr<std::promise<Result<void>>>;

    struct Consumer {
        std::string tag;
        std::string queue;
        std::uint32_t prefetch = 0;
        broker::DeliveryHandler handler;
        amqp_channel_t channel = 0;  // 0 while not consuming on the current connection
    };
    struct OpenDelivery {
        std::uint64_t generation = 0;
        amqp_channel_t channel = 0;
        std::uint64_t amqp_tag = 0;
    };
    enum class Settle { ack, nack, reject };

    // --- called by public methods --------------------------------------------------------
    // Runs `work` on the I/O thread (inline when already on it) and returns its result. Fails
    // at once while disconnected, unless `while_disconnected` (work that notes what to set up
    // when the connection comes up).
    template <class T>
    Result<T> run(std::function<Result<T>()> work, bool while_disconnected = false);
    bool post(Command command);
    Result<void> settle(std::uint64_t delivery_tag, Settle how, bool requeue);

    // --- I/O thread (connection_loop.cpp) ------------------------------------------------
    void io_main();
    void run_commands();
    void sleep_before_retry(int attempt);
    Result<void> connect();
    void restore();
    void pump();
    void read_available_frames();
    void handle_frame(const amqp_frame_t& frame);
    void handle_delivery(amqp_channel_t channel, const amqp_basic_deliver_t& deliver);
    void handle_confirm(std::uint64_t tag, bool multiple, bool ack);
    void handle_channel_close(amqp_channel_t channel, const amqp_channel_close_t& close);
    void drop_connection(const std::string& reason);
    void close_gracefully();

    // --- I/O thread (channel_ops.cpp) ----------------------------------------------------
    // Checks the reply of the last RPC on `channel`. A channel.close is answered and the
    // channel opened again; a connection.close or a library error drops the connection.
    Result<void> check_reply(amqp_channel_t channel, const std::string& what,
                             broker::Errc not_found = broker::Errc::queue_not_found);
    Result<void> open_channel(amqp_channel_t channel);
    Result<void> io_declare(const std::string& queue, const broker::QueueOptions& options);
    Result<void> io_publish(const std::string& queue, const broker::Message& message,
                            ConfirmPromise confirm);
    Result<void> io_start_consumer(Consumer& consumer);
    Result<void> io_cancel(const std::string& tag);
    Result<void> io_settle(std::uint64_t tag, Settle how, bool requeue);
    Result<broker::QueueStats> io_queue_stats(const std::string& queue);
    Result<std::size_t> io_purge(const std::string& queue);
    Result<void> io_delete(const std::string& queue);
    amqp_channel_t free_consumer_channel() const;
    void forget_channel_deliveries(amqp_channel_t channel);
    Error unavailable(const std::string& what) const;

    const RabbitmqLibrary& rabbitmq_;  // rabbitmq-c, called on the I/O thread only
    const BrokerUrl url_;
    const ClientOptions options_;
    const std::string description_;
    std::shared_ptr<spdlog::logger> log_;

    // Shared between callers and the I/O thread.
    std::mutex mutex_;
    std::condition_variable changed_;  // a command arrived, or the connection came up
    std::deque<Command> commands_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    std::atomic<std::thread::id> io_thread_id_;
    int wake_fd_ = -1;

    // I/O thread only.
    amqp_connection_state_t conn_ = nullptr;
    std::uint64_t generation_ = 0;
    std::uint64_t next_publish_seq_ = 1;
    std::map<std::uint64_t, ConfirmPromise> confirms_;  // by publish sequence number
    std::map<std::string, broker::QueueOptions> queues_;
    std::map<std::string, Consumer> consumers_;  // by tag
    std::map<amqp_channel_t, std::string> channel_consumers_;
    std::map<std::uint64_t, OpenDelivery> deliveries_;  // by this client's tag
    std::uint64_t next_delivery_tag_ = 1;
    std::uint64_t next_consumer_ = 1;
    std::mt19937_64 random_{std::random_device{}()};

    std::thread io_thread_;
};

inline constexpr amqp_channel_t kControlChannel = 1;
inline constexpr amqp_channel_t kPublishChannel = 2;
inline constexpr amqp_channel_t kFirstConsumerChannel = 3;

// The values of rabbitmq-c's amqp_empty_bytes and amqp_empty_table, which are variables, not
// functions, in the library that is loaded with dlopen.
inline constexpr amqp_bytes_t kEmptyBytes{0, nullptr};
inline constexpr amqp_table_t kEmptyTable{0, nullptr};

}  // namespace imgbus::amqp::client
