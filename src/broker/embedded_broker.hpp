// SPDX-License-Identifier: MIT
#pragma once

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "journal.hpp"

namespace imgbus::broker {

// The in-memory broker behind make_embedded_broker() and open_embedded_broker().
//
// Delivery states. A message routed to a queue is *ready* in one of the queue's priority levels
// (one level without x-max-priority). Dispatch takes the head of the highest non-empty level,
// first dropping expired heads, and moves it to *unacked*: it gets a broker-wide tag, an entry
// in unacked_ and a place in its consumer's outbox (basic_get skips the outbox). From unacked it
// is acked (gone), requeued (front of its level, redelivered) by nack/reject with requeue, by a
// cancel, a session close or basic_recover, or dead-lettered/dropped by nack/reject without
// requeue. A ready message can also leave by TTL expiry, drop-head overflow, purge or delete.
// Every way out of the broker goes through forget_message(), which releases its bytes and
// writes the journal's remove record.
//
// Lock. One mutex_ guards all state; no method holds it while it calls a handler. Work that
// must run unlocked (delivery handlers, confirms, blocked and cancel notices) is collected in an
// Effects list and run after the unlock. Handlers run in drain(): a thread that appended to an
// outbox that nobody is draining marks it draining and, after unlocking, hands over one delivery
// at a time, so each consumer's handler runs on one thread at a time, in tag order, and may call
// any method. Lock order: mutex_, then the journal's lock.
//
// Capacity. A consumer holds at most its window of unacked messages (0: unlimited, counting
// those in its outbox) and a session at most its global prefetch across its consumers. No-ack
// consumers are not limited. Bodies held are counted in message_bytes_ against the memory limit.
class EmbeddedBroker final : public Broker {
  public:
    explicit EmbeddedBroker(BrokerOptions options = {});
    ~EmbeddedBroker() override;

    // Replays the journal (if any) and starts the journal and expiry threads.
    Result<void> open();

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

    Result<void> exchange_declare(const std::string& exchange,
                                  const ExchangeOptions& options) override;
    Result<void> exchange_delete(const std::string& exchange, bool if_unused) override;
    Result<QueueDeclareOk> queue_declare(const std::string& queue,
                                         const QueueOptions& options) override;
    Result<std::size_t> queue_delete(const std::string& queue,
                                     const DeleteOptions& options) override;
    Result<void> queue_bind(const std::string& queue, const std::string& exchange,
                            const std::string& routing_key, const FieldTable& arguments) override;
    Result<void> queue_unbind(const std::string& queue, const std::string& exchange,
                              const std::string& routing_key, const FieldTable& arguments) override;
    Result<PublishOutcome> basic_publish(const std::string& exchange,
                                         const std::string& routing_key, Message message,
                                         const PublishOptions& options) override;
    Result<SessionId> open_session(const std::string& owner) override;
    Result<void> close_session(SessionId session) override;
    void release_owner(const std::string& owner) override;
    Result<void> basic_qos(SessionId session, std::uint32_t prefetch_count, bool global) override;
    Result<std::string> basic_consume(const std::string& queue, const ConsumeOptions& options,
                                      DeliveryHandler handler) override;
    Result<std::optional<GetOk>> basic_get(SessionId session, const std::string& queue,
                                           bool no_ack) override;
    Result<void> basic_ack(SessionId session, std::uint64_t delivery_tag, bool multiple) override;
    Result<void> basic_nack(SessionId session, std::uint64_t delivery_tag, bool multiple,
                            bool requeue) override;
    Result<void> basic_reject(SessionId session, std::uint64_t delivery_tag, bool requeue) override;
    Result<void> basic_recover(SessionId session) override;
    std::vector<ExchangeInfo> list_exchanges() override;
    std::vector<BindingInfo> list_bindings() override;
    BrokerStats broker_stats() override;
    std::vector<ConsumerInfo> list_consumers() override;
    std::vector<SessionInfo> list_sessions() override;
    std::uint64_t add_blocked_listener(BlockedHandler handler) override;
    void remove_blocked_listener(std::uint64_t id) override;

  private:
    using Clock = std::chrono::steady_clock;

    // A message as routed: immutable once stored, shared by the queues it went to.
    struct StoredMessage {
        // A constructor, so that make_shared builds it in place (clang 14 has no P0960).
        StoredMessage(Message message, std::string exchange, std::string routing_key)
            : message(std::move(message)),
              exchange(std::move(exchange)),
              routing_key(std::move(routing_key)) {}
        Message message;
        std::string exchange;
        std::string routing_key;
    };
    using MessagePtr = std::shared_ptr<const StoredMessage>;

    struct QueuedMessage {
        MessagePtr stored;
        bool redelivered = false;
        std::uint64_t journal_id = 0;  // 0: not in the journal
        Clock::time_point expires_at = Clock::time_point::max();
        std::uint8_t level = 0;  // priority level
        std::size_t bytes() const { return stored->message.body.size(); }
        bool expires() const { return expires_at != Clock::time_point::max(); }
    };

    struct PendingDelivery {
        std::uint64_t visible_tag = 0;
        bool redelivered = false;
        MessagePtr stored;
    };

    struct Session;
    using SessionPtr = std::shared_ptr<Session>;

    struct Consumer {
        std::string tag;
        std::string queue;
        std::size_t window = 0;  // 0: unlimited
        bool no_ack = false;
        bool exclusive = false;
        bool share_message = false;
        DeliveryHandler handler;
        CancelHandler on_cancelled;
        SessionPtr session;
        std::set<std::uint64_t> unacked_tags;  // broker tags, including those still in outbox
        std::deque<PendingDelivery> outbox;
        bool draining = false;
        bool cancelled = false;
    };
    using ConsumerPtr = std::shared_ptr<Consumer>;

    struct Session {
        SessionId id = 0;
        std::string owner;
        std::uint32_t global_prefetch = 0;
        std::uint32_t consumer_prefetch = 0;
        std::uint64_t last_tag = 0;
        std::map<std::uint64_t, std::uint64_t> tags;  // session tag -> broker tag, unacked
        std::size_t limited_unacked = 0;  // unacked of its consumers, for global_prefetch
        std::set<std::string> consumer_tags;
    };

    struct Queue {
        QueueOptions options;
        std::vector<std::deque<QueuedMessage>> levels;
        std::size_t ready_count = 0;
        std::size_t ready_bytes = 0;
        std::size_t ready_expiring = 0;  // ready messages with a deadline: 0 skips the TTL check
        std::vector<ConsumerPtr> consumers;
        std::size_t next_consumer = 0;  // round-robin cursor into consumers
        std::size_t unacked = 0;
        bool had_consumer = false;  // auto-delete waits for a first consumer
        QueueStats counters;        // the totals; the gauges are filled in by stats_of()
    };

    struct Unacked {
        // The queue's entry in queues_: erase_queue() removes a queue's unacked entries before
        // the queue, so the pointer never dangles. Its name is queue->counters.name.
        Queue* queue = nullptr;
        ConsumerPtr consumer;  // null for basic_get
        SessionPtr session;    // null without a session
        std::uint64_t session_tag = 0;
        QueuedMessage message;
    };

    struct Binding {
        std::string queue;
        std::string routing_key;
        FieldTable arguments;
        bool operator==(const Binding&) const = default;
    };

    struct Exchange {
        ExchangeOptions options;
        std::vector<Binding> bindings;
        bool predeclared = false;
    };

    // Work that a method runs after releasing mutex_.
    struct Effects {
        // Usually the one consumer that an ack or a publish fed: no allocation for it.
        boost::container::small_vector<ConsumerPtr, 2> drains;
        std::vector<std::function<void()>> calls;
    };

    // requeue: nack/reject with requeue (counted); release: cancel, close or recover (not counted).
    enum class Settle { ack, requeue, release, discard };

    // embedded_broker.cpp: queues, consumers, dispatch and settlement.
    Queue* find_queue(const std::string& queue);
    Result<Queue*> require_queue(const std::string& queue);
    Result<Queue*> require_usable_queue(const std::string& queue, const std::string& owner);
    Result<std::string> add_consumer(const std::string& queue, std::size_t window,
                                     const ConsumeOptions& options, DeliveryHandler handler,
                                     Effects& effects);
    // Takes the pointer by value: the caller's reference may point into consumers_.
    void remove_consumer(ConsumerPtr consumer, Effects& effects);
    void unlink_consumer(const ConsumerPtr& consumer);
    void after_consumer_left(const std::string& queue, Effects& effects);
    void dispatch(Queue& queue, Effects& effects);
    ConsumerPtr next_consumer_with_room(Queue& queue);
    std::uint64_t assign_tags(Queue& queue, const ConsumerPtr& consumer, const SessionPtr& session,
                              std::uint64_t& visible_tag);
    Result<void> settle(std::uint64_t delivery_tag, Settle how, Effects& effects);
    void requeue_unacked_of(Consumer& consumer, Effects& effects);
    void erase_queue(const std::string& name, Effects& effects);
    void drain(const ConsumerPtr& consumer) noexcept;
    void run(Effects& effects);
    static QueueStats stats_of(const std::string& name, const Queue& queue);

    // embedded_messages.cpp: ready levels, TTL, overflow, dead-lettering, memory.
    enum class Enqueued { rejected, in_memory, journaled, journal_failed };
    // write: when a journaled message's publish record reaches the file (with_sync when the
    // caller waits for the fsync anyway: a confirm or publish()).
    using Write = Journal::Write;
    Enqueued enqueue(const std::string& name, Queue& queue, QueuedMessage message, Write write,
                     Effects& effects);
    void push_front(Queue& queue, QueuedMessage message);
    QueuedMessage pop_head(Queue& queue);
    QueuedMessage* head(Queue& queue);
    void expire_heads(Queue& queue, Effects& effects);
    void dead_letter(Queue& queue, QueuedMessage message, const char* reason, Effects& effects);
    void forget_message(Queue& queue, const QueuedMessage& message);
    void update_blocked(Effects& effects);
    void sweep_loop();
    // A queue a message goes to. Pointers into queues_ stay valid while mutex_ is held and no
    // queue is erased, which routing and enqueueing never do.
    struct Target {
        const std::string* name;
        Queue* queue;
    };
    // Most messages go to one queue: no allocation for up to four.
    using Targets = boost::container::small_vector<Target, 4>;
    Targets route(const Exchange& exchange, const std::string& exchange_name,
                  const std::string& routing_key, const Message& message);
    struct Routed {
        PublishOutcome outcome;
        bool journaled = false;       // a confirm must wait for the journal's fsync
        bool journal_failed = false;  // a confirm must be negative
    };
    Result<Routed> publish_message(const std::string& exchange, const std::string& routing_key,
                                   Message message, Write write, Effects& effects);
    Routed deliver_routed(const Targets& targets, const MessagePtr& stored,
                          std::optional<std::chrono::milliseconds> message_ttl, Write write,
                          Effects& effects);

    // embedded_sessions.cpp: sessions and exchanges.
    Result<SessionPtr> require_session(SessionId session);
    Result<std::vector<std::uint64_t>> session_tags(Session& session, std::uint64_t tag,
                                                    bool multiple);
    Result<void> settle_session(SessionId session, std::uint64_t tag, bool multiple, Settle how);
    Exchange* find_exchange(const std::string& exchange);
    void drop_bindings_of(const std::string& queue);

    // embedded_durability.cpp: journal records, replay and compaction.
    bool journaled(const Queue& queue) const;
    void journal_queue(const std::string& name, const Queue& queue);
    void journal_exchange(const std::string& name, const Exchange& exchange);
    void journal_binding(RecordType type, const std::string& exchange, const Binding& binding);
    void journal_name(RecordType type, const std::string& name);
    bool journal_publish(const std::string& queue, QueuedMessage& message, Write write);
    void journal_delivered(const QueuedMessage& message);
    Result<void> apply_record(RecordType type, std::string_view payload, std::uint32_t bytes);
    void finish_replay();
    void compact();
    std::string snapshot_topology();
    void snapshot_messages(std::string& records,
                           std::vector<std::pair<std::uint64_t, std::uint32_t>>& live);
    void predeclare_exchanges();

    const BrokerOptions options_;
    std::unique_ptr<Journal> journal_;
    // Journaled messages by id (publish order) while the journal is replayed.
    struct ReplayState {
        std::map<std::uint64_t, std::pair<std::string, QueuedMessage>> messages;
    };
    std::unique_ptr<ReplayState> replay_;  // only while open() replays the journal
    bool journal_broken_ = false;

    std::mutex mutex_;
    std::map<std::string, Queue> queues_;
    std::map<std::string, Exchange> exchanges_;
    std::unordered_map<std::string, ConsumerPtr> consumers_;
    std::unordered_map<std::uint64_t, Unacked> unacked_;
    std::unordered_map<SessionId, SessionPtr> sessions_;
    std::map<std::uint64_t, BlockedHandler> blocked_listeners_;
    std::uint64_t last_delivery_tag_ = 0;
    std::uint64_t last_consumer_id_ = 0;
    std::uint64_t last_session_id_ = 0;
    std::uint64_t last_listener_id_ = 0;
    std::uint64_t last_journal_id_ = 0;
    std::size_t message_bytes_ = 0;
    bool blocked_ = false;
    std::mt19937_64 random_{std::random_device{}()};

    std::condition_variable sweep_wake_;
    bool stopping_ = false;
    std::thread sweeper_;
};

}  // namespace imgbus::broker
