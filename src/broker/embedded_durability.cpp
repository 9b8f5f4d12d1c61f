// SPDX-License-Identifier: MIT
// The embedded broker's journal records: what each operation writes, how open() replays them
// and how compaction rewrites the live state.
#include <algorithm>

#include "embedded_broker.hpp"

namespace imgbus::broker {

namespace {

using SystemClock = std::chrono::system_clock;

void put_optional(PayloadWriter& out, const std::optional<std::string>& text) {
    out.u8(text ? 1 : 0);
    out.str(text.value_or(""));
}

std::optional<std::string> get_optional(PayloadReader& in) {
    const bool present = in.u8() != 0;
    std::string text = in.str();
    return present ? std::optional<std::string>(std::move(text)) : std::nullopt;
}

void put_table(PayloadWriter& out, const FieldTable& table) {
    encode_field_table(table, out.bytes());
}

FieldTable get_table(PayloadReader& in) {
    std::size_t used = 0;
    auto table = decode_field_table(in.rest(), used);
    if (!table) {
        in.fail();
        return {};
    }
    in.skip(used);
    return std::move(*table);
}

std::int64_t to_unix_ms(SystemClock::time_point at) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

// A steady-clock deadline as Unix milliseconds, for the journal; 0 for none.
std::int64_t expiry_unix_ms(std::chrono::steady_clock::time_point deadline) {
    if (deadline == std::chrono::steady_clock::time_point::max()) return 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return to_unix_ms(SystemClock::now()) + left.count();
}

void put_message(PayloadWriter& out, const Message& m) {
    out.str(m.body);
    out.str(m.content_type);
    out.str(m.message_id);
    put_table(out, m.headers);
    out.u8(m.persistent ? 1 : 0);
    out.u64(static_cast<std::uint64_t>(to_unix_ms(m.published_at)));
    out.str(m.content_encoding);
    out.u8(m.priority ? 1 : 0);
    out.u8(m.priority.value_or(0));
    out.str(m.correlation_id);
    out.str(m.reply_to);
    out.str(m.expiration);
    out.u8(m.timestamp ? 1 : 0);
    out.u64(m.timestamp.value_or(0));
    out.str(m.type);
    out.str(m.user_id);
    out.str(m.app_id);
    out.str(m.cluster_id);
}

Message get_message(PayloadReader& in) {
    Message m;
    m.body = in.str();
    m.content_type = in.str();
    m.message_id = in.str();
    m.headers = get_table(in);
    m.persistent = in.u8() != 0;
    m.published_at = SystemClock::time_point(std::chrono::milliseconds(in.u64()));
    m.content_encoding = in.str();
    const bool has_priority = in.u8() != 0;
    const std::uint8_t priority = in.u8();
    if (has_priority) m.priority = priority;
    m.correlation_id = in.str();
    m.reply_to = in.str();
    m.expiration = in.str();
    const bool has_timestamp = in.u8() != 0;
    const std::uint64_t timestamp = in.u64();
    if (has_timestamp) m.timestamp = timestamp;
    m.type = in.str();
    m.user_id = in.str();
    m.app_id = in.str();
    m.cluster_id = in.str();
    return m;
}

Error corrupt(const char* what) {
    return make_error(Errc::journal_failed,
                      std::string("broker journal: a ") + what +
                          " record has a valid checksum but cannot be decoded; the journal was "
                          "written by another version, move it away to start empty");
}

}  // namespace

bool EmbeddedBroker::journaled(const Queue& queue) const {
    return journal_ != nullptr && queue.options.durable && !queue.options.exclusive;
}

void EmbeddedBroker::journal_name(RecordType type, const std::string& name) {
    if (!journal_ || journal_broken_ || replay_) return;
    PayloadWriter payload;
    payload.str(name);
    if (!journal_->append(type, payload.bytes())) journal_broken_ = true;
}

namespace {

std::string queue_payload(const std::string& name, const QueueOptions& o) {
    PayloadWriter out;
    out.str(name);
    out.u64(o.max_length_messages);
    out.u8(o.overflow == Overflow::drop_head ? 1 : 0);
    out.u64(o.max_length_bytes);
    out.u8(o.message_ttl ? 1 : 0);
    out.u64(o.message_ttl ? static_cast<std::uint64_t>(o.message_ttl->count()) : 0);
    put_optional(out, o.dead_letter_exchange);
    put_optional(out, o.dead_letter_routing_key);
    out.u8(o.max_priority);
    out.u8(o.auto_delete ? 1 : 0);
    put_table(out, o.arguments);
    return std::move(out.bytes());
}

std::string exchange_payload(const std::string& name, const ExchangeOptions& o) {
    PayloadWriter out;
    out.str(name);
    out.u8(static_cast<std::uint8_t>(o.type));
    out.u8(o.auto_delete ? 1 : 0);
    out.u8(o.internal ? 1 : 0);
    put_table(out, o.arguments);
    return std::move(out.bytes());
}

std::string binding_payload(const std::string& exchange, const std::string& queue,
                            const std::string& key, const FieldTable& arguments) {
    PayloadWriter out;
    out.str(exchange);
    out.str(queue);
    out.str(key);
    put_table(out, arguments);
    return std::move(out.bytes());
}

}  // namespace

void EmbeddedBroker::journal_queue(const std::string& name, const Queue& queue) {
    if (!journal_ || journal_broken_ || replay_) return;
    if (!journal_->append(RecordType::queue_declare, queue_payload(name, queue.options))) {
        journal_broken_ = true;
    }
}

void EmbeddedBroker::journal_exchange(const std::string& name, const Exchange& exchange) {
    if (!journal_ || journal_broken_ || replay_ || !exchange.options.durable) return;
    if (!journal_->append(RecordType::exchange_declare, exchange_payload(name, exchange.options))) {
        journal_broken_ = true;
    }
}

void EmbeddedBroker::journal_binding(RecordType type, const std::string& exchange,
                                     const Binding& binding) {
    if (!journal_ || journal_broken_ || replay_) return;
    auto payload = binding_payload(exchange, binding.queue, binding.routing_key, binding.arguments);
    if (!journal_->append(type, payload)) journal_broken_ = true;
}

namespace {

std::string publish_payload(std::uint64_t id, const std::string& queue, bool redelivered,
                            std::int64_t expires_unix_ms, const std::string& exchange,
                            const std::string& routing_key, const Message& message) {
    PayloadWriter out;
    out.u64(id);
    out.str(queue);
    out.u8(redelivered ? 1 : 0);
    out.u64(static_cast<std::uint64_t>(expires_unix_ms));
    out.str(exchange);
    out.str(routing_key);
    put_message(out, message);
    return std::move(out.bytes());
}

}  // namespace

// Writes the publish record and gives the message its journal id. False if the journal failed.
bool EmbeddedBroker::journal_publish(const std::string& queue, QueuedMessage& message,
                                     Write write) {
    if (journal_broken_) return false;
    const std::uint64_t id = ++last_journal_id_;
    const std::int64_t expires_ms = expiry_unix_ms(message.expires_at);
    const StoredMessage& stored = *message.stored;
    auto payload = publish_payload(id, queue, message.redelivered, expires_ms, stored.exchange,
                                   stored.routing_key, stored.message);
    if (!journal_->append(RecordType::publish, payload, write)) {
        journal_broken_ = true;
        return false;
    }
    journal_->track(id, static_cast<std::uint32_t>(payload.size() + 9));
    message.journal_id = id;
    return true;
}

// The first delivery of a journaled message: after a crash it comes back flagged redelivered.
void EmbeddedBroker::journal_delivered(const QueuedMessage& message) {
    if (message.journal_id == 0 || message.redelivered || journal_broken_) return;
    PayloadWriter payload;
    payload.u64(message.journal_id);
    if (!journal_->append(RecordType::delivered, payload.bytes())) journal_broken_ = true;
}

Result<void> EmbeddedBroker::apply_record(RecordType type, std::string_view payload,
                                          std::uint32_t bytes) {
    if (!replay_) replay_ = std::make_unique<ReplayState>();
    PayloadReader in(payload);
    switch (type) {
        case RecordType::snapshot: {
            // A compaction that crashed before deleting older segments: start over from here.
            replay_->messages.clear();
            queues_.clear();
            std::erase_if(exchanges_, [](const auto& entry) { return !entry.second.predeclared; });
            for (auto& [name, exchange] : exchanges_) exchange.bindings.clear();
            break;
        }
        case RecordType::exchange_declare: {
            std::string name = in.str();
            ExchangeOptions options;
            options.type = static_cast<ExchangeType>(in.u8());
            options.auto_delete = in.u8() != 0;
            options.internal = in.u8() != 0;
            options.arguments = get_table(in);
            if (in.failed()) return corrupt("exchange declare");
            exchanges_[name].options = options;
            break;
        }
        case RecordType::exchange_delete:
            exchanges_.erase(in.str());
            break;
        case RecordType::queue_declare: {
            std::string name = in.str();
            QueueOptions o;
            o.max_length_messages = in.u64();
            o.overflow = in.u8() != 0 ? Overflow::drop_head : Overflow::reject_publish;
            o.max_length_bytes = in.u64();
            const bool has_ttl = in.u8() != 0;
            const auto ttl = std::chrono::milliseconds(in.u64());
            if (has_ttl) o.message_ttl = ttl;
            o.dead_letter_exchange = get_optional(in);
            o.dead_letter_routing_key = get_optional(in);
            o.max_priority = in.u8();
            o.auto_delete = in.u8() != 0;
            o.arguments = get_table(in);
            if (in.failed()) return corrupt("queue declare");
            Queue& queue = queues_[name];
            queue.options = o;
            queue.levels.resize(std::size_t{o.max_priority} + 1);
            queue.counters.name = name;
            break;
        }
        case RecordType::queue_delete: {
            std::string name = in.str();
            queues_.erase(name);
            std::erase_if(replay_->messages, [&](const auto& m) { return m.second.first == name; });
            drop_bindings_of(name);
            break;
        }
        case RecordType::bind:
        case RecordType::unbind: {
            std::string exchange = in.str();
            Binding binding{in.str(), in.str(), {}};
            binding.arguments = get_table(in);
            if (in.failed()) return corrupt("binding");
            Exchange* source = find_exchange(exchange);
            if (source == nullptr) break;
            std::erase(source->bindings, binding);
            if (type == RecordType::bind) source->bindings.push_back(std::move(binding));
            break;
        }
        case RecordType::publish: {
            const std::uint64_t id = in.u64();
            std::string queue = in.str();
            QueuedMessage message;
            message.redelivered = in.u8() != 0;
            const auto expires_ms = static_cast<std::int64_t>(in.u64());
            std::string exchange = in.str();
            std::string routing_key = in.str();
            Message body = get_message(in);
            if (in.failed()) return corrupt("publish");
            if (expires_ms != 0) {
                message.expires_at =
                    Clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(
                                       0, expires_ms - to_unix_ms(SystemClock::now())));
            }
            message.stored = std::make_shared<const StoredMessage>(
                StoredMessage{std::move(body), std::move(exchange), std::move(routing_key)});
            message.journal_id = id;
            last_journal_id_ = std::max(last_journal_id_, id);
            replay_->messages[id] = {std::move(queue), std::move(message)};
            journal_->track(id, bytes);
            break;
        }
        case RecordType::delivered: {
            auto found = replay_->messages.find(in.u64());
            if (found != replay_->messages.end()) found->second.second.redelivered = true;
            break;
        }
        case RecordType::remove: {
            const std::uint64_t id = in.u64();
            replay_->messages.erase(id);
            journal_->forget(id);
            break;
        }
        default:
            return make_error(Errc::journal_failed, "broker journal: unknown record type " +
                                                        std::to_string(static_cast<int>(type)) +
                                                        "; it was written by a newer version");
    }
    return {};
}

// Puts the replayed messages into their queues in publish order.
void EmbeddedBroker::finish_replay() {
    if (!replay_) return;
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : replay_->messages) {
        Queue* queue = find_queue(entry.first);
        if (queue == nullptr) {
            journal_->forget(id);
            continue;
        }
        QueuedMessage& message = entry.second;
        message.level =
            std::min(message.stored->message.priority.value_or(0), queue->options.max_priority);
        message_bytes_ += message.bytes();
        queue->ready_bytes += message.bytes();
        queue->ready_expiring += message.expires() ? 1 : 0;
        ++queue->ready_count;
        queue->levels[message.level].push_back(std::move(message));
    }
    replay_.reset();
    Effects ignored;  // nothing listens yet
    update_blocked(ignored);
}

// Rewrites the journal as the live state: durable exchanges, queues, bindings and the
// journaled messages still ready or unacked (the unacked ones flagged redelivered).
void EmbeddedBroker::compact() {
    std::lock_guard lock(mutex_);
    if (journal_broken_ || !journal_->compaction_due()) return;
    std::string records = snapshot_topology();
    std::vector<std::pair<std::uint64_t, std::uint32_t>> live;
    snapshot_messages(records, live);
    if (!journal_->rewrite(records, live)) journal_broken_ = true;
}

std::string EmbeddedBroker::snapshot_topology() {
    std::string records;
    for (const auto& [name, exchange] : exchanges_) {
        if (!exchange.predeclared && exchange.options.durable) {
            frame_record(records, RecordType::exchange_declare,
                         exchange_payload(name, exchange.options));
        }
    }
    for (const auto& [name, queue] : queues_) {
        if (journaled(queue)) {
            frame_record(records, RecordType::queue_declare, queue_payload(name, queue.options));
        }
    }
    for (const auto& [name, exchange] : exchanges_) {
        if (!exchange.options.durable) continue;
        for (const Binding& b : exchange.bindings) {
            const Queue* queue = find_queue(b.queue);
            if (queue && journaled(*queue)) {
                frame_record(records, RecordType::bind,
                             binding_payload(name, b.queue, b.routing_key, b.arguments));
            }
        }
    }
    return records;
}

// Appends a publish record per journaled message, in publish order so that a replay rebuilds
// each queue in the order it had, and lists each record's id and size in `live`.
void EmbeddedBroker::snapshot_messages(std::string& records,
                                       std::vector<std::pair<std::uint64_t, std::uint32_t>>& live) {
    struct LiveMessage {
        const std::string* queue;
        const QueuedMessage* message;
        bool unacked;
    };
    std::vector<LiveMessage> messages;
    for (const auto& [name, queue] : queues_) {
        if (!journaled(queue)) continue;
        for (const auto& level : queue.levels) {
            for (const QueuedMessage& m : level) messages.push_back({&name, &m, false});
        }
    }
    for (const auto& [tag, entry] : unacked_) {
        messages.push_back({&entry.queue->counters.name, &entry.message, true});
    }
    std::sort(messages.begin(), messages.end(), [](const auto& a, const auto& b) {
        return a.message->journal_id < b.message->journal_id;
    });

    for (const LiveMessage& entry : messages) {
        const QueuedMessage& m = *entry.message;
        if (m.journal_id == 0) continue;
        const auto before = records.size();
        frame_record(records, RecordType::publish,
                     publish_payload(m.journal_id, *entry.queue, m.redelivered || entry.unacked,
                                     expiry_unix_ms(m.expires_at), m.stored->exchange,
                                     m.stored->routing_key, m.stored->message));
        live.emplace_back(m.journal_id, static_cast<std::uint32_t>(records.size() - before));
    }
}

}  // namespace imgbus::broker
