// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::broker {

enum class Errc {
    queue_not_found = 1,
    queue_full,  // max length reached with overflow = reject_publish: back-pressure
    queue_exists_with_other_options,
    unknown_delivery_tag,
    consumer_not_found,
    invalid_argument,
    unavailable,  // the broker connection is down (remote brokers)
};

const std::error_category& broker_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

// What a full queue does with one more message.
enum class Overflow {
    reject_publish,  // publish fails with queue_full (RabbitMQ's reject-publish)
    drop_head,       // the oldest ready message is dropped and counted
};

struct QueueOptions {
    std::size_t max_length_messages = 10'000;
    Overflow overflow = Overflow::reject_publish;
    bool durable = true;
};

struct Message {
    std::string body;
    std::string content_type = "application/json";
    std::string message_id;
    std::map<std::string, std::string> headers;
    bool persistent = true;
    std::chrono::system_clock::time_point published_at;  // set by publish()
};

struct Delivery {
    std::uint64_t delivery_tag = 0;  // unique within the broker; pass to ack/nack/reject
    std::string queue;
    std::string consumer_tag;
    bool redelivered = false;
    Message message;
};

struct QueueStats {
    std::string name;
    bool durable = true;
    std::size_t messages_ready = 0;
    std::size_t messages_unacknowledged = 0;
    std::size_t consumers = 0;
    std::size_t max_length_messages = 0;
    std::uint64_t published_total = 0;
    std::uint64_t delivered_total = 0;
    std::uint64_t acked_total = 0;
    std::uint64_t nacked_total = 0;  // nack and reject, with or without requeue
    std::uint64_t redelivered_total = 0;
    std::uint64_t rejected_publish_total = 0;  // publishes refused because the queue was full
    std::uint64_t dropped_total = 0;           // dropped by drop_head or purge
};

// Called by the broker for each delivery, outside the broker's locks, on the thread that made
// the delivery possible (a publisher, an ack). It must not block for long: hand the delivery to
// a worker and return. It must not throw: the embedded broker cannot tell whether a throwing
// handler took the delivery over, so an exception that escapes it ends the process.
using DeliveryHandler = std::function<void(Delivery)>;

// A message broker with AMQP's queue semantics: a message is ready, then delivered to one
// consumer (unacked) until that consumer acks it (gone), nacks or rejects it with requeue (ready
// again, flagged redelivered) or without (dropped). A consumer holds at most `prefetch` unacked
// messages. Implementations: embedded (in memory) and RabbitMQ over AMQP.
class Broker {
  public:
    virtual ~Broker() = default;

    // Declares a queue; declaring an existing queue with the same options succeeds.
    virtual Result<void> declare_queue(const std::string& queue, const QueueOptions& options) = 0;
    virtual Result<void> delete_queue(const std::string& queue) = 0;

    // Appends to the queue, or fails with queue_full (back-pressure) or queue_not_found.
    virtual Result<void> publish(const std::string& queue, Message message) = 0;

    // Registers a consumer and returns its tag. prefetch 0 means unlimited (the embedded broker
    // caps it at the queue's max_length_messages). Deliveries may reach the handler before
    // consume() returns; each carries the consumer tag.
    virtual Result<std::string> consume(const std::string& queue, std::uint32_t prefetch,
                                        DeliveryHandler handler) = 0;
    // Removes the consumer; its unacked messages go back to the queue, flagged redelivered.
    virtual Result<void> cancel(const std::string& consumer_tag) = 0;

    virtual Result<void> ack(std::uint64_t delivery_tag) = 0;
    // requeue: back to the head of the queue with redelivered set; otherwise dropped.
    virtual Result<void> nack(std::uint64_t delivery_tag, bool requeue) = 0;
    virtual Result<void> reject(std::uint64_t delivery_tag, bool requeue) = 0;

    // Removes every ready message and returns how many; unacked ones stay.
    virtual Result<std::size_t> purge(const std::string& queue) = 0;

    virtual Result<QueueStats> queue_stats(const std::string& queue) = 0;
    virtual std::vector<QueueStats> list_queues() = 0;
};

// The in-process broker.
std::unique_ptr<Broker> make_embedded_broker();

}  // namespace imgbus::broker

template <>
struct std::is_error_code_enum<imgbus::broker::Errc> : std::true_type {};
