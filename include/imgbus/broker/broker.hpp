// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "imgbus/broker/clients.hpp"
#include "imgbus/broker/field_table.hpp"
#include "imgbus/result.hpp"

namespace imgbus::broker {

// The comment after each code gives the AMQP reply code that the amqp module sends for it.
enum class Errc {
    queue_not_found = 1,                 // 404 not-found
    queue_full,                          // max length reached with reject_publish: back-pressure
    queue_exists_with_other_options,     // 406 precondition-failed
    unknown_delivery_tag,                // 406 precondition-failed
    consumer_not_found,                  // (basic.cancel of an unknown tag is not an error in AMQP)
    invalid_argument,                    // 406 precondition-failed: bad x-argument, name or value
    unavailable,                         // the broker connection is down (remote brokers)
    exchange_not_found,                  // 404 not-found
    exchange_exists_with_other_options,  // 406 precondition-failed
    in_use,                              // 406 precondition-failed: if-unused, exclusive consumer
    not_empty,                           // 406 precondition-failed: if-empty
    resource_locked,    // 405 resource-locked: another connection's exclusive queue
    access_refused,     // 403 access-refused: amq.* names, exclusive consumer taken
    session_not_found,  // 504 channel-error
    journal_failed,     // 541 internal-error: the durable journal cannot be written
    not_supported,      // 540 not-implemented: this Broker lacks the operation
};

const std::error_category& broker_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

// What a full queue does with one more message.
enum class Overflow {
    reject_publish,  // publish fails with queue_full (RabbitMQ's reject-publish)
    drop_head,       // the oldest ready message is dropped (dead-lettered if configured)
};

// Queue settings. The typed fields carry the defaults. `arguments` contains the x-arguments as
// an AMQP client sent them: x-message-ttl, x-max-length, x-max-length-bytes, x-overflow,
// x-dead-letter-exchange, x-dead-letter-routing-key and x-max-priority, and any other x-argument
// is rejected. A present argument overrides the matching typed field. A bad value fails with
// invalid_argument naming the argument. A redeclaration whose effective settings differ fails
// with queue_exists_with_other_options naming the first differing argument.
struct QueueOptions {
    std::size_t max_length_messages = 10'000;      // x-max-length: ready messages
    Overflow overflow = Overflow::reject_publish;  // x-overflow
    bool durable = true;

    std::size_t max_length_bytes = 0;  // x-max-length-bytes: ready body bytes; 0 = no limit
    std::optional<std::chrono::milliseconds> message_ttl;  // x-message-ttl
    std::optional<std::string> dead_letter_exchange;       // x-dead-letter-exchange ("" = default)
    std::optional<std::string> dead_letter_routing_key;    // x-dead-letter-routing-key
    std::uint8_t max_priority = 0;  // x-max-priority, 0..255; 0 = no priorities
    bool exclusive = false;         // usable only by `owner`, deleted when the owner is released
    bool auto_delete = false;       // deleted when its last consumer is cancelled
    bool passive = false;           // only check that the queue exists (and may be used by owner)
    std::string owner;              // the connection declaring; required with exclusive
    FieldTable arguments;
};

// An exchange routes a published message to the queues bound to it.
enum class ExchangeType {
    direct,   // binding key == routing key
    fanout,   // every bound queue
    topic,    // dot-separated words, '*' one word, '#' zero or more words
    headers,  // binding arguments against message headers, x-match all (default) or any
};

struct ExchangeOptions {
    ExchangeType type = ExchangeType::direct;
    bool durable = true;
    bool auto_delete = false;  // deleted when its last binding is removed
    bool internal = false;     // only reachable through exchange-to-exchange routing (refused)
    bool passive = false;      // only check that the exchange exists
    FieldTable arguments;
};

// "direct", "fanout", "topic" or "headers"; fails with not_supported naming the type otherwise.
Result<ExchangeType> parse_exchange_type(const std::string& name);
const char* exchange_type_name(ExchangeType type);

// A message with AMQP's basic properties. Empty strings and nullopt mean "property absent".
struct Message {
    std::string body;
    std::string content_type = "application/json";
    std::string message_id;
    FieldTable headers;
    bool persistent = true;  // AMQP delivery_mode 2; false is delivery_mode 1
    std::chrono::system_clock::time_point published_at;  // set by publish()

    std::string content_encoding;
    std::optional<std::uint8_t> priority;  // 0..9 by convention; capped at the queue's max
    std::string correlation_id;
    std::string reply_to;
    std::string expiration;  // per-message TTL: milliseconds as a decimal string, as in AMQP
    std::optional<std::uint64_t> timestamp;  // seconds since the epoch
    std::string type;
    std::string user_id;
    std::string app_id;
    std::string cluster_id;
};

struct Delivery {
    // Without a session: unique in the broker, settled with ack/nack/reject. In a session: the
    // session's tag, counting from 1 like an AMQP channel's, settled with basic_ack/nack/reject.
    std::uint64_t delivery_tag = 0;
    std::string queue;
    std::string consumer_tag;  // empty for basic_get
    bool redelivered = false;
    Message message;
    std::string exchange;  // where the message was published ("" = the default exchange)
    std::string routing_key;
    // For a consumer with ConsumeOptions::share_message, the broker's own immutable copy, and
    // `message` stays empty: no copy of the body per delivery.
    std::shared_ptr<const Message> shared_message;

    // The message, wherever it is held.
    const Message& content() const { return shared_message ? *shared_message : message; }
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

    std::size_t message_bytes_ready = 0;
    std::uint64_t expired_total = 0;        // removed by message TTL
    std::uint64_t dead_lettered_total = 0;  // republished to the dead-letter exchange
    bool exclusive = false;
    bool auto_delete = false;
};

struct ExchangeInfo {
    std::string name;
    ExchangeType type = ExchangeType::direct;
    bool durable = true;
    bool auto_delete = false;
    bool internal = false;
};

struct BindingInfo {
    std::string exchange;
    std::string queue;
    std::string routing_key;
    FieldTable arguments;
};

struct BrokerStats {
    std::size_t message_bytes = 0;  // bodies held in all queues, ready and unacked
    std::size_t memory_limit_bytes = 0;
    bool blocked = false;                  // message_bytes is above memory_limit_bytes
    std::uint64_t journal_bytes = 0;       // all journal segments on disk
    std::uint64_t journal_live_bytes = 0;  // the part a compaction would keep
    std::uint64_t journal_syncs_total = 0;
    std::uint64_t compactions_total = 0;
};

// Called by the broker for each delivery, outside the broker's locks, on the thread that made
// the delivery possible (a publisher, an ack). It must not block for long: hand the delivery to
// a worker and return. It must not throw: the embedded broker cannot tell whether a throwing
// handler took the delivery over, so an exception that escapes it ends the process.
using DeliveryHandler = std::function<void(Delivery)>;

// Publisher confirm, called exactly once per message. The argument is true once every queue
// that took the message has it safe: after the journal's fsync for a persistent message in a
// durable queue, otherwise at once. It is false when a queue rejected the message (reject-publish
// overflow) or the journal failed. The call may run on the publishing thread before
// basic_publish returns, or later on the journal thread, with no broker lock held. Confirms of
// different messages may come in any order. It must not throw or block.
using ConfirmHandler = std::function<void(bool ack)>;

// Called with true when the bodies held pass BrokerOptions::memory_limit_bytes and with false
// when they fall back below it (AMQP's connection.blocked and connection.unblocked). Same
// rules as a ConfirmHandler.
using BlockedHandler = std::function<void(bool blocked)>;

// Called when the broker cancels a consumer on its own (its queue was deleted), for AMQP's
// consumer cancel notification. Same rules as a ConfirmHandler.
using CancelHandler = std::function<void(const std::string& consumer_tag)>;

struct PublishOptions {
    bool mandatory = false;     // the caller returns unroutable messages (basic.return)
    ConfirmHandler on_confirm;  // empty: no confirm
};

struct PublishOutcome {
    std::size_t routed_queues = 0;    // queues that took the message
    std::size_t rejected_queues = 0;  // queues that refused it (full, reject_publish)
    // True when no queue matched; with mandatory set the caller sends basic.return (312).
    bool unroutable() const { return routed_queues == 0 && rejected_queues == 0; }
};

struct ConsumeOptions {
    std::uint32_t prefetch = 0;  // 0: the session's basic_qos default, else unlimited
    bool no_ack = false;         // settled at delivery; never counted against a prefetch
    bool exclusive = false;      // refuse other consumers of the queue while this one lives
    std::string consumer_tag;    // empty: the broker makes one ("amq.ctag-...")
    SessionId session = 0;       // 0: no session, broker-wide tags
    CancelHandler on_cancelled;  // optional
    bool share_message = false;  // deliver Delivery::shared_message instead of a copy
};

struct DeleteOptions {
    bool if_unused = false;  // fail with in_use while the queue has consumers
    bool if_empty = false;   // fail with not_empty while the queue contains ready messages
    std::string owner;       // the connection asking, checked against an exclusive queue's owner
};

struct QueueDeclareOk {
    std::string queue;  // the name, generated ("amq.gen-...") when the declare asked for ""
    std::size_t message_count = 0;
    std::size_t consumer_count = 0;
};

struct GetOk {
    Delivery delivery;
    std::size_t message_count = 0;  // ready messages left in the queue
};

// A message broker with AMQP's queue semantics. A message is ready, then delivered to one
// consumer (unacked) until that consumer acks it (gone) or nacks or rejects it. With requeue it
// is ready again, flagged redelivered. Without, it is dead-lettered if the queue has a
// dead-letter exchange, else dropped. A consumer holds at most `prefetch` unacked messages.
// Implementations: embedded (in memory, with an optional journal) and RabbitMQ over AMQP.
//
// The first group of methods is the original queue API, used by the worker and http modules.
// The second group mirrors AMQP 0-9-1's methods for the amqp listener. The base class answers
// the second group with not_supported, so that a Broker that lacks them still compiles.
class Broker {
  public:
    virtual ~Broker() = default;

    // Declares a queue; declaring an existing queue with the same options succeeds.
    virtual Result<void> declare_queue(const std::string& queue, const QueueOptions& options) = 0;
    virtual Result<void> delete_queue(const std::string& queue) = 0;

    // Publishes through the default exchange, which routes to the queue of that name. Fails with
    // queue_full (back-pressure) or queue_not_found. Returns once the message is safe: for a
    // persistent message in a durable queue, after the journal's fsync.
    virtual Result<void> publish(const std::string& queue, Message message) = 0;

    // Registers a consumer and returns its tag. prefetch 0 means unlimited (the embedded broker
    // caps it at the queue's max_length_messages). Deliveries may reach the handler before
    // consume() returns; each carries the consumer tag.
    virtual Result<std::string> consume(const std::string& queue, std::uint32_t prefetch,
                                        DeliveryHandler handler) = 0;
    // Removes the consumer; its unacked messages go back to the queue, flagged redelivered.
    virtual Result<void> cancel(const std::string& consumer_tag) = 0;

    virtual Result<void> ack(std::uint64_t delivery_tag) = 0;
    // requeue: back to the head of the queue with redelivered set; otherwise dead-lettered or
    // dropped.
    virtual Result<void> nack(std::uint64_t delivery_tag, bool requeue) = 0;
    virtual Result<void> reject(std::uint64_t delivery_tag, bool requeue) = 0;

    // Removes every ready message and returns how many; unacked ones stay.
    virtual Result<std::size_t> purge(const std::string& queue) = 0;

    virtual Result<QueueStats> queue_stats(const std::string& queue) = 0;
    virtual std::vector<QueueStats> list_queues() = 0;

    // --- AMQP 0-9-1 operations -------------------------------------------------------------

    // exchange.declare. Names starting with "amq." are reserved (access_refused) unless passive.
    virtual Result<void> exchange_declare(const std::string& exchange,
                                          const ExchangeOptions& options);
    // exchange.delete. if_unused: fail with in_use while the exchange has bindings.
    virtual Result<void> exchange_delete(const std::string& exchange, bool if_unused);

    // queue.declare. For an empty name the broker generates one ("amq.gen-...").
    virtual Result<QueueDeclareOk> queue_declare(const std::string& queue,
                                                 const QueueOptions& options);
    // queue.delete; returns the number of ready messages deleted.
    virtual Result<std::size_t> queue_delete(const std::string& queue,
                                             const DeleteOptions& options);
    // queue.bind and queue.unbind. Binding to the default exchange is refused (access_refused);
    // binding twice is a no-op; unbinding a missing binding succeeds, as in RabbitMQ.
    virtual Result<void> queue_bind(const std::string& queue, const std::string& exchange,
                                    const std::string& routing_key, const FieldTable& arguments);
    virtual Result<void> queue_unbind(const std::string& queue, const std::string& exchange,
                                      const std::string& routing_key, const FieldTable& arguments);

    // basic.publish. Fails with exchange_not_found; an unroutable message is not an error (see
    // PublishOutcome). The confirm, if asked for, is always called, also on failure (false).
    virtual Result<PublishOutcome> basic_publish(const std::string& exchange,
                                                 const std::string& routing_key, Message message,
                                                 const PublishOptions& options);

    // A session is an AMQP channel. It numbers its deliveries from 1 and carries the
    // channel-wide prefetch. Closing it cancels its consumers and requeues every message it has
    // unacked. `owner` names the connection, for exclusive queues.
    virtual Result<SessionId> open_session(const std::string& owner);
    virtual Result<void> close_session(SessionId session);
    // Releases a connection: closes its sessions and deletes its exclusive queues.
    virtual void release_owner(const std::string& owner);

    // basic.qos. global false: the prefetch of consumers created afterwards in the session;
    // global true: a limit shared by all consumers of the session. 0 = unlimited.
    virtual Result<void> basic_qos(SessionId session, std::uint32_t prefetch_count, bool global);
    // basic.consume; returns the consumer tag (options.consumer_tag or a generated one).
    virtual Result<std::string> basic_consume(const std::string& queue,
                                              const ConsumeOptions& options,
                                              DeliveryHandler handler);
    // basic.get; nullopt when the queue has no ready message (get-empty).
    virtual Result<std::optional<GetOk>> basic_get(SessionId session, const std::string& queue,
                                                   bool no_ack);
    // basic.ack, basic.nack, basic.reject on a session's tags; multiple covers every unacked tag
    // up to and including delivery_tag (tag 0 with multiple: all of them).
    virtual Result<void> basic_ack(SessionId session, std::uint64_t delivery_tag, bool multiple);
    virtual Result<void> basic_nack(SessionId session, std::uint64_t delivery_tag, bool multiple,
                                    bool requeue);
    virtual Result<void> basic_reject(SessionId session, std::uint64_t delivery_tag, bool requeue);
    // basic.recover with requeue: every unacked message of the session goes back, redelivered.
    virtual Result<void> basic_recover(SessionId session);

    virtual std::vector<ExchangeInfo> list_exchanges();
    virtual std::vector<BindingInfo> list_bindings();
    virtual BrokerStats broker_stats();
    // Every consumer and every session, for the management API (empty where not supported).
    virtual std::vector<ConsumerInfo> list_consumers();
    virtual std::vector<SessionInfo> list_sessions();

    // Registers a handler for blocked/unblocked changes and returns its id; the handler is
    // called at once with true if the broker is blocked already.
    virtual std::uint64_t add_blocked_listener(BlockedHandler handler);
    virtual void remove_blocked_listener(std::uint64_t id);
};

struct BrokerOptions {
    // Directory of the journal. Empty: nothing is written, and durable queues last as long as
    // the process.
    std::filesystem::path data_dir;
    // Bodies held (ready and unacked) above which the broker reports itself blocked.
    std::size_t memory_limit_bytes = std::size_t{256} << 20;
    // Group commit: the journal thread fsyncs at most this long after the first unsynced record.
    std::chrono::microseconds sync_interval{2000};
    // A segment file is closed and a new one started past this size.
    std::uint64_t segment_bytes = std::uint64_t{64} << 20;
    // Compaction runs when the journal holds more than this and over half of it is dead.
    std::uint64_t compact_min_bytes = std::uint64_t{32} << 20;
    // How often message TTLs are checked at the queue heads, besides at each dispatch.
    std::chrono::milliseconds expiry_sweep_interval{50};
    // false skips fsync (tests and benchmarks of the code path only; not crash-safe).
    bool fsync = true;
};

// The in-process broker without a journal.
std::unique_ptr<Broker> make_embedded_broker();
// The in-process broker with the given options: replays the journal under data_dir (creating
// the directory) before returning. Fails with journal_failed naming the file on I/O errors.
Result<std::unique_ptr<Broker>> open_embedded_broker(const BrokerOptions& options);

}  // namespace imgbus::broker

template <>
struct std::is_error_code_enum<imgbus::broker::Errc> : std::true_type {};
