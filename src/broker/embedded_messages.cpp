// SPDX-License-Identifier: MIT
// The embedded broker's message paths: routing, enqueue with overflow, priority levels, TTL
// expiry, dead-lettering with x-death, memory accounting and the expiry sweep.
#include <algorithm>
#include <cassert>
#include <charconv>
#include <set>

#include "embedded_broker.hpp"
#include "routing.hpp"

namespace imgbus::broker {

namespace {

constexpr std::int64_t kMaxExpirationMilliseconds = 0xffffffffLL;

// AMQP's expiration property: a non-negative number of milliseconds, as decimal text.
Result<std::optional<std::chrono::milliseconds>> parse_expiration(const std::string& text) {
    if (text.empty()) return std::optional<std::chrono::milliseconds>();
    std::int64_t value = -1;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0 ||
        value > kMaxExpirationMilliseconds) {
        return make_error(Errc::invalid_argument,
                          "invalid expiration '" + text +
                              "': it must be a number of milliseconds from 0 to 4294967295");
    }
    return std::optional<std::chrono::milliseconds>(std::chrono::milliseconds(value));
}

const std::string* text_field(const FieldTable& table, std::string_view name) {
    const FieldValue* value = table.find(name);
    return value ? as_string(*value) : nullptr;
}

// RabbitMQ's x-death: one table per (queue, reason), newest first, with a count.
void add_death(Message& message, const std::string& queue, const char* reason,
               const std::string& exchange, const std::string& routing_key) {
    FieldArray deaths;
    if (const FieldValue* existing = message.headers.find("x-death")) {
        if (const auto* array = std::get_if<FieldArray>(&existing->value)) deaths = *array;
    }
    std::int64_t count = 1;
    for (auto it = deaths.begin(); it != deaths.end(); ++it) {
        const auto* entry = std::get_if<FieldTable>(&it->value);
        if (!entry) continue;
        const std::string* q = text_field(*entry, "queue");
        const std::string* r = text_field(*entry, "reason");
        if (q && r && *q == queue && *r == reason) {
            if (const FieldValue* c = entry->find("count")) count = as_integer(*c).value_or(0) + 1;
            deaths.erase(it);
            break;
        }
    }
    FieldTable death{
        {"count", count},       {"reason", std::string(reason)},
        {"queue", queue},       {"time", Timestamp{static_cast<std::uint64_t>(std::time(nullptr))}},
        {"exchange", exchange}, {"routing-keys", FieldArray{FieldValue(routing_key)}}};
    if (!message.expiration.empty()) {
        death.set("original-expiration", message.expiration);
        message.expiration.clear();
    }
    deaths.insert(deaths.begin(), FieldValue(std::move(death)));
    message.headers.set("x-death", std::move(deaths));
    if (!message.headers.find("x-first-death-reason")) {
        message.headers.set("x-first-death-reason", std::string(reason));
        message.headers.set("x-first-death-queue", queue);
        message.headers.set("x-first-death-exchange", exchange);
    }
}

// RabbitMQ drops a dead-lettered message that would return to a queue it already died in,
// unless a client rejected it somewhere on the way (then the cycle is the client's choice).
bool is_cycle(const Message& message, const std::string& target) {
    const FieldValue* existing = message.headers.find("x-death");
    const auto* deaths = existing ? std::get_if<FieldArray>(&existing->value) : nullptr;
    if (!deaths) return false;
    bool seen = false;
    for (const FieldValue& item : *deaths) {
        const auto* entry = std::get_if<FieldTable>(&item.value);
        if (!entry) continue;
        const std::string* reason = text_field(*entry, "reason");
        if (reason && *reason == "rejected") return false;
        const std::string* queue = text_field(*entry, "queue");
        if (queue && *queue == target) seen = true;
    }
    return seen;
}

}  // namespace

Result<PublishOutcome> EmbeddedBroker::basic_publish(const std::string& exchange,
                                                     const std::string& routing_key,
                                                     Message message,
                                                     const PublishOptions& options) {
    Effects effects;
    const Write write = options.on_confirm ? Write::with_sync : Write::now;
    auto routed = publish_message(exchange, routing_key, std::move(message), write, effects);
    run(effects);
    if (!routed) {
        if (options.on_confirm) options.on_confirm(false);
        return routed.error();
    }
    if (options.on_confirm) {
        const bool ack = routed->outcome.rejected_queues == 0 && !routed->journal_failed;
        if (routed->journaled && ack) {
            // The publish record was appended before this call, so the next fsync covers it.
            journal_->after_sync(options.on_confirm);
        } else {
            options.on_confirm(ack);
        }
    }
    return routed->outcome;
}

// Routes one message and stores it in every matching queue. Confirms are the caller's.
Result<EmbeddedBroker::Routed> EmbeddedBroker::publish_message(const std::string& exchange,
                                                               const std::string& routing_key,
                                                               Message message, Write write,
                                                               Effects& effects) {
    auto message_ttl = parse_expiration(message.expiration);
    if (!message_ttl) return message_ttl.error();
    message.published_at = std::chrono::system_clock::now();

    std::lock_guard lock(mutex_);
    Exchange* target = find_exchange(exchange);
    if (target == nullptr) {
        return make_error(Errc::exchange_not_found,
                          "no exchange '" + exchange + "'; declare it first");
    }
    if (target->options.internal) {
        return make_error(Errc::access_refused,
                          "cannot publish to internal exchange '" + exchange + "'");
    }
    const Targets targets = route(*target, exchange, routing_key, message);
    if (targets.empty()) return Routed{};
    auto stored = std::make_shared<const StoredMessage>(std::move(message), exchange, routing_key);
    Routed routed = deliver_routed(targets, stored, *message_ttl, write, effects);
    update_blocked(effects);
    return routed;
}

EmbeddedBroker::Targets EmbeddedBroker::route(const Exchange& exchange,
                                              const std::string& exchange_name,
                                              const std::string& routing_key,
                                              const Message& message) {
    Targets targets;
    if (exchange_name.empty()) {
        if (auto found = queues_.find(routing_key); found != queues_.end()) {
            targets.push_back({&found->first, &found->second});
        }
        return targets;
    }
    std::optional<TopicMatcher> topic;
    if (exchange.options.type == ExchangeType::topic) topic.emplace(routing_key);
    for (const Binding& binding : exchange.bindings) {
        bool match = false;
        switch (exchange.options.type) {
            case ExchangeType::fanout:
                match = true;
                break;
            case ExchangeType::direct:
                match = binding.routing_key == routing_key;
                break;
            case ExchangeType::topic:
                match = topic->matches(binding.routing_key);
                break;
            case ExchangeType::headers:
                match = headers_match(binding.arguments, message.headers);
                break;
        }
        if (!match) continue;
        auto found = queues_.find(binding.queue);
        if (found == queues_.end()) continue;
        const bool seen = std::any_of(targets.begin(), targets.end(), [&](const Target& target) {
            return target.queue == &found->second;
        });
        if (!seen) targets.push_back({&found->first, &found->second});
    }
    return targets;
}

EmbeddedBroker::Routed EmbeddedBroker::deliver_routed(
    const Targets& targets, const MessagePtr& stored,
    std::optional<std::chrono::milliseconds> message_ttl, Write write, Effects& effects) {
    Routed routed;
    std::optional<Clock::time_point> now;
    for (const Target& target : targets) {
        const std::string& name = *target.name;
        Queue* queue = target.queue;
        QueuedMessage entry{stored};
        auto ttl = message_ttl;
        if (queue->options.message_ttl && (!ttl || *queue->options.message_ttl < *ttl)) {
            ttl = queue->options.message_ttl;
        }
        if (ttl) {
            if (!now) now = Clock::now();
            entry.expires_at = *now + *ttl;
        }
        switch (enqueue(name, *queue, std::move(entry), write, effects)) {
            case Enqueued::rejected:
                ++routed.outcome.rejected_queues;
                continue;
            case Enqueued::journaled:
                routed.journaled = true;
                break;
            case Enqueued::journal_failed:
                routed.journal_failed = true;
                break;
            case Enqueued::in_memory:
                break;
        }
        ++routed.outcome.routed_queues;
        dispatch(*queue, effects);
    }
    return routed;
}

// Appends to the queue after making room by its overflow policy; journals a persistent message
// of a durable queue.
EmbeddedBroker::Enqueued EmbeddedBroker::enqueue(const std::string& name, Queue& queue,
                                                 QueuedMessage message, Write write,
                                                 Effects& effects) {
    const QueueOptions& options = queue.options;
    const std::size_t bytes = message.bytes();
    auto over = [&] {
        return queue.ready_count >= options.max_length_messages ||
               (options.max_length_bytes != 0 &&
                queue.ready_bytes + bytes > options.max_length_bytes);
    };
    if (over() && options.overflow == Overflow::reject_publish) {
        ++queue.counters.rejected_publish_total;
        return Enqueued::rejected;
    }
    while (over() && queue.ready_count > 0) {
        ++queue.counters.dropped_total;
        dead_letter(queue, pop_head(queue), "maxlen", effects);
    }
    ++queue.counters.published_total;
    if (over()) {  // larger than x-max-length-bytes on its own: dropped at once
        ++queue.counters.dropped_total;
        return Enqueued::in_memory;
    }
    message.level = std::min(message.stored->message.priority.value_or(0), options.max_priority);
    message_bytes_ += bytes;
    Enqueued result = Enqueued::in_memory;
    if (journaled(queue) && message.stored->message.persistent) {
        result =
            journal_publish(name, message, write) ? Enqueued::journaled : Enqueued::journal_failed;
    }
    queue.ready_expiring += message.expires() ? 1 : 0;
    queue.levels[message.level].push_back(std::move(message));
    ++queue.ready_count;
    queue.ready_bytes += bytes;
    return result;
}

void EmbeddedBroker::push_front(Queue& queue, QueuedMessage message) {
    queue.ready_bytes += message.bytes();
    queue.ready_expiring += message.expires() ? 1 : 0;
    ++queue.ready_count;
    queue.levels[message.level].push_front(std::move(message));
}

EmbeddedBroker::QueuedMessage* EmbeddedBroker::head(Queue& queue) {
    for (auto level = queue.levels.rbegin(); level != queue.levels.rend(); ++level) {
        if (!level->empty()) return &level->front();
    }
    return nullptr;
}

EmbeddedBroker::QueuedMessage EmbeddedBroker::pop_head(Queue& queue) {
    assert(queue.ready_count > 0);
    auto level = std::find_if(queue.levels.rbegin(), queue.levels.rend(),
                              [](const auto& candidate) { return !candidate.empty(); });
    QueuedMessage next = std::move(level->front());
    level->pop_front();
    --queue.ready_count;
    queue.ready_bytes -= next.bytes();
    queue.ready_expiring -= next.expires() ? 1 : 0;
    return next;
}

// Dead-letters the expired messages at the head of each priority level (RabbitMQ also expires
// only at the head, so a message behind a longer-lived one waits for it).
void EmbeddedBroker::expire_heads(Queue& queue, Effects& effects) {
    if (queue.ready_expiring == 0) return;
    const auto now = Clock::now();
    for (auto& level : queue.levels) {
        while (!level.empty() && level.front().expires_at <= now) {
            QueuedMessage expired = std::move(level.front());
            level.pop_front();
            --queue.ready_count;
            --queue.ready_expiring;
            queue.ready_bytes -= expired.bytes();
            ++queue.counters.expired_total;
            dead_letter(queue, std::move(expired), "expired", effects);
        }
    }
}

// Republishes a message that leaves the queue unsettled (rejected, expired, maxlen) to the
// queue's dead-letter exchange with an x-death entry, or drops it when there is none.
void EmbeddedBroker::dead_letter(Queue& queue, QueuedMessage message, const char* reason,
                                 Effects& effects) {
    forget_message(queue, message);
    const auto& exchange_name = queue.options.dead_letter_exchange;
    Exchange* exchange = exchange_name ? find_exchange(*exchange_name) : nullptr;
    if (exchange == nullptr) return;

    const StoredMessage& old = *message.stored;
    Message copy = old.message;
    add_death(copy, queue.counters.name, reason, old.exchange, old.routing_key);
    const std::string key = queue.options.dead_letter_routing_key.value_or(old.routing_key);
    Targets targets = route(*exchange, *exchange_name, key, copy);
    targets.erase(
        std::remove_if(targets.begin(), targets.end(),
                       [&](const Target& target) { return is_cycle(copy, *target.name); }),
        targets.end());
    if (targets.empty()) return;
    ++queue.counters.dead_lettered_total;
    auto stored = std::make_shared<const StoredMessage>(std::move(copy), *exchange_name, key);
    // Written at once: the remove record of the original is in the file already.
    (void)deliver_routed(targets, stored, std::nullopt, Write::now, effects);
}

// The single way out of the broker for a message: frees its bytes and ends its journal life.
void EmbeddedBroker::forget_message(Queue& queue, const QueuedMessage& message) {
    (void)queue;
    assert(message_bytes_ >= message.bytes());
    message_bytes_ -= message.bytes();
    if (message.journal_id != 0 && journal_ && !journal_broken_) {
        PayloadWriter payload;
        payload.u64(message.journal_id);
        if (!journal_->append(RecordType::remove, payload.bytes())) journal_broken_ = true;
        journal_->forget(message.journal_id);
    }
}

void EmbeddedBroker::update_blocked(Effects& effects) {
    const bool now_blocked = message_bytes_ > options_.memory_limit_bytes;
    if (now_blocked == blocked_) return;
    blocked_ = now_blocked;
    // A plain loop variable: clang 14 cannot capture a structured binding.
    for (const auto& listener : blocked_listeners_) {
        effects.calls.push_back([handler = listener.second, now_blocked] { handler(now_blocked); });
    }
}

void EmbeddedBroker::sweep_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        sweep_wake_.wait_for(lock, options_.expiry_sweep_interval);
        if (stopping_) return;
        Effects effects;
        for (auto& [name, queue] : queues_) dispatch(queue, effects);
        update_blocked(effects);
        lock.unlock();
        run(effects);
        lock.lock();
    }
}

}  // namespace imgbus::broker
