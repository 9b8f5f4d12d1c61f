// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "imgbus/broker/broker.hpp"

namespace imgbus::broker {

// The in-memory broker behind make_embedded_broker().
//
// Delivery states. A published message is *ready* in its queue's deque. Dispatch moves it to
// *unacked*: it gets a broker-wide delivery tag, an entry in unacked_, and a place in its
// consumer's outbox. The consumer's handler later receives it from the outbox. From unacked it
// is either acked (gone), nacked or rejected with requeue (back to the head of the deque with
// redelivered set), nacked or rejected without requeue (gone, counted), or returned to the head
// flagged redelivered when its consumer is cancelled. Deleting the queue forgets all of them.
//
// Lock. One mutex_ guards every queue, consumer and unacked entry; no method holds it while it
// calls a handler. Handlers run in drain(): a thread that appended deliveries to an outbox that
// nobody is draining marks it draining and, after unlocking, pops and hands over one delivery at
// a time. So each consumer's handler runs on one thread at a time, in delivery-tag order, and a
// handler may call any method (ack, publish, cancel) from inside the callback or from another
// thread: the call only appends to the outbox that the outer drain() loop is already emptying.
//
// Capacity. A consumer holds at most `prefetch` unacked messages, counting those still in its
// outbox; prefetch 0 ("unlimited") is capped at the queue's max_length_messages, so a queue holds
// at most max_length_messages ready messages plus the sum of its consumers' windows.
class EmbeddedBroker final : public Broker {
  public:
    Result<void> declare_queue(const std::string& queue, const QueueOptions& options) override;
    Result<void> delete_queue(const std::string& queue) override;
    Result<void> publish(const std::string& queue, Message message) override;
    Result<std::string> consume(const std::string& queue, std::uint32_t prefetch,
                                DeliveryHandler handler) override;
    Result<void> cancel(const std::string& consumer_tag) override;
    Result<void> ack(std::uint64_t delivery_tag) override;
    Result<void> nack(std::uint64_t delivery_tag, bool requeue) override;
    Result<void> reject(std::uint64_t delivery_tag, bool requeue) override;
    Result<std::size_t> purge(const std::string& queue) override;
    Result<QueueStats> queue_stats(const std::string& queue) override;
    std::vector<QueueStats> list_queues() override;

  private:
    using MessagePtr = std::shared_ptr<const Message>;

    struct ReadyMessage {
        MessagePtr message;
        bool redelivered = false;
    };

    struct PendingDelivery {
        std::uint64_t delivery_tag = 0;
        bool redelivered = false;
        MessagePtr message;
    };

    struct Consumer {
        std::string tag;
        std::string queue;
        std::size_t window = 0;  // effective prefetch, never 0
        DeliveryHandler handler;
        std::set<std::uint64_t> unacked_tags;  // includes the tags still in outbox
        std::deque<PendingDelivery> outbox;
        bool draining = false;
        bool cancelled = false;
    };
    using ConsumerPtr = std::shared_ptr<Consumer>;

    struct Queue {
        QueueOptions options;
        std::deque<ReadyMessage> ready;
        std::vector<ConsumerPtr> consumers;
        std::size_t next_consumer = 0;  // round-robin cursor into consumers
        std::size_t unacked = 0;
        QueueStats counters;  // the totals; the gauges are filled in by stats_of()
    };

    struct Unacked {
        std::string queue;
        ConsumerPtr consumer;
        ReadyMessage message;
    };

    // Consumers whose outbox this thread must drain once it has released mutex_.
    using DrainList = std::vector<ConsumerPtr>;

    Queue* find_queue(const std::string& queue);
    Result<Queue*> require_queue(const std::string& queue);
    void dispatch(Queue& queue, DrainList& to_drain);
    ConsumerPtr next_consumer_with_room(Queue& queue);
    void settle(std::uint64_t delivery_tag, Unacked& entry);
    void requeue_unacked_of(Consumer& consumer, Queue* queue);
    Result<void> settle_negative(std::uint64_t delivery_tag, bool requeue);
    void drain(const ConsumerPtr& consumer) noexcept;
    void drain_all(const DrainList& to_drain);
    static QueueStats stats_of(const std::string& name, const Queue& queue);

    std::mutex mutex_;
    std::map<std::string, Queue> queues_;
    std::unordered_map<std::string, ConsumerPtr> consumers_;
    std::unordered_map<std::uint64_t, Unacked> unacked_;
    std::uint64_t last_delivery_tag_ = 0;
    std::uint64_t last_consumer_id_ = 0;
};

}  // namespace imgbus::broker
