// SPDX-License-Identifier: MIT
// The embedded broker's AMQP-shaped operations: exchanges, bindings, queue.declare and
// queue.delete, sessions (channels) with their tags and qos, basic.get and settlement by tag.
#include <algorithm>
#include <cassert>

#include "embedded_broker.hpp"
#include "queue_arguments.hpp"

namespace imgbus::broker {

namespace {

constexpr std::size_t kMaxNameBytes = 255;  // AMQP short string

Result<void> check_name(const char* what, const std::string& name, bool passive) {
    if (name.size() > kMaxNameBytes) {
        return make_error(Errc::invalid_argument,
                          std::string(what) + " name '" + name.substr(0, 40) + "...' has " +
                              std::to_string(name.size()) + " bytes; the limit is 255");
    }
    if (!passive && name.starts_with("amq.")) {
        return make_error(Errc::access_refused, std::string(what) + " name '" + name +
                                                    "' starts with the reserved prefix 'amq.'");
    }
    return {};
}

std::string exchange_mismatch(const ExchangeOptions& a, const ExchangeOptions& b) {
    if (a.type != b.type) {
        return std::string("type = ") + exchange_type_name(a.type) + " (requested " +
               exchange_type_name(b.type) + ")";
    }
    if (a.durable != b.durable) return std::string("durable = ") + (a.durable ? "true" : "false");
    if (a.auto_delete != b.auto_delete) {
        return std::string("auto_delete = ") + (a.auto_delete ? "true" : "false");
    }
    if (a.internal != b.internal) {
        return std::string("internal = ") + (a.internal ? "true" : "false");
    }
    return {};
}

}  // namespace

void EmbeddedBroker::predeclare_exchanges() {
    const std::pair<const char*, ExchangeType> predeclared[] = {
        {"", ExchangeType::direct},
        {"amq.direct", ExchangeType::direct},
        {"amq.fanout", ExchangeType::fanout},
        {"amq.topic", ExchangeType::topic},
        {"amq.headers", ExchangeType::headers},
        {"amq.match", ExchangeType::headers}};
    for (const auto& [name, type] : predeclared) {
        Exchange& exchange = exchanges_[name];
        exchange.options.type = type;
        exchange.predeclared = true;
    }
}

EmbeddedBroker::Exchange* EmbeddedBroker::find_exchange(const std::string& exchange) {
    auto found = exchanges_.find(exchange);
    return found == exchanges_.end() ? nullptr : &found->second;
}

Result<void> EmbeddedBroker::exchange_declare(const std::string& exchange,
                                              const ExchangeOptions& options) {
    if (auto valid = check_name("exchange", exchange, options.passive); !valid) return valid;
    std::lock_guard lock(mutex_);
    if (Exchange* existing = find_exchange(exchange)) {
        if (options.passive) return {};
        std::string mismatch = exchange_mismatch(existing->options, options);
        if (mismatch.empty()) return {};
        return make_error(Errc::exchange_exists_with_other_options,
                          "exchange '" + exchange + "' already exists with " + mismatch +
                              "; declare it with the same options or delete it first");
    }
    if (options.passive) {
        return make_error(Errc::exchange_not_found, "no exchange '" + exchange + "'");
    }
    if (exchange.empty()) {
        return make_error(Errc::access_refused, "the default exchange cannot be redeclared");
    }
    Exchange& created = exchanges_[exchange];
    created.options = options;
    created.options.passive = false;
    journal_exchange(exchange, created);
    return {};
}

Result<void> EmbeddedBroker::exchange_delete(const std::string& exchange, bool if_unused) {
    std::lock_guard lock(mutex_);
    Exchange* found = find_exchange(exchange);
    if (found == nullptr) {
        return make_error(Errc::exchange_not_found, "no exchange '" + exchange + "'");
    }
    if (found->predeclared) {
        return make_error(Errc::access_refused,
                          "exchange '" + exchange + "' is predeclared and cannot be deleted");
    }
    if (if_unused && !found->bindings.empty()) {
        return make_error(Errc::in_use, "exchange '" + exchange + "' has " +
                                            std::to_string(found->bindings.size()) +
                                            " bindings; unbind them or delete without if-unused");
    }
    if (found->options.durable) journal_name(RecordType::exchange_delete, exchange);
    exchanges_.erase(exchange);
    return {};
}

Result<QueueDeclareOk> EmbeddedBroker::queue_declare(const std::string& requested,
                                                     const QueueOptions& requested_options) {
    if (auto valid = check_name("queue", requested, requested_options.passive); !valid) {
        return valid.error();
    }
    std::lock_guard lock(mutex_);
    std::string queue = requested;
    if (queue.empty() && !requested_options.passive) {
        queue = "amq.gen-" + std::to_string(random_()) + "-" + std::to_string(queues_.size());
    }
    auto options = effective_queue_options(queue, requested_options);
    if (!options) return options.error();

    if (Queue* existing = find_queue(queue)) {
        auto usable = require_usable_queue(queue, options->owner);
        if (!usable) return usable.error();
        if (!options->passive) {
            std::string mismatch = describe_queue_mismatch(existing->options, *options);
            if (!mismatch.empty()) {
                return make_error(Errc::queue_exists_with_other_options,
                                  "inequivalent arg for queue '" + queue + "': it exists with " +
                                      mismatch +
                                      "; declare it with the same options or delete "
                                      "it first");
            }
        }
        return QueueDeclareOk{queue, existing->ready_count, existing->consumers.size()};
    }
    if (options->passive) {
        return make_error(Errc::queue_not_found, "queue '" + queue +
                                                     "' not found (passive "
                                                     "declare); declare it first");
    }
    Queue& created = queues_[queue];
    created.options = std::move(*options);
    created.options.passive = false;
    created.levels.resize(std::size_t{created.options.max_priority} + 1);
    created.counters.name = queue;
    if (journaled(created)) journal_queue(queue, created);
    return QueueDeclareOk{queue, 0, 0};
}

Result<std::size_t> EmbeddedBroker::queue_delete(const std::string& queue,
                                                 const DeleteOptions& options) {
    Effects effects;
    std::size_t deleted = 0;
    {
        std::lock_guard lock(mutex_);
        auto found = require_usable_queue(queue, options.owner);
        if (!found) return found.error();
        Queue& target = **found;
        if (options.if_unused && !target.consumers.empty()) {
            return make_error(Errc::in_use, "queue '" + queue + "' has " +
                                                std::to_string(target.consumers.size()) +
                                                " consumers; cancel them or delete without "
                                                "if-unused");
        }
        if (options.if_empty && target.ready_count > 0) {
            return make_error(Errc::not_empty, "queue '" + queue + "' holds " +
                                                   std::to_string(target.ready_count) +
                                                   " messages; purge it or delete without "
                                                   "if-empty");
        }
        deleted = target.ready_count;
        erase_queue(queue, effects);
    }
    run(effects);
    return deleted;
}

Result<void> EmbeddedBroker::queue_bind(const std::string& queue, const std::string& exchange,
                                        const std::string& routing_key,
                                        const FieldTable& arguments) {
    std::lock_guard lock(mutex_);
    auto target = require_queue(queue);
    if (!target) return target.error();
    Exchange* source = find_exchange(exchange);
    if (source == nullptr) {
        return make_error(Errc::exchange_not_found, "no exchange '" + exchange + "' to bind to");
    }
    if (exchange.empty()) {
        return make_error(Errc::access_refused,
                          "queues are bound to the default exchange by name; bind to another "
                          "exchange");
    }
    Binding binding{queue, routing_key, arguments};
    if (std::find(source->bindings.begin(), source->bindings.end(), binding) !=
        source->bindings.end()) {
        return {};
    }
    if (source->options.durable && journaled(**target)) {
        journal_binding(RecordType::bind, exchange, binding);
    }
    source->bindings.push_back(std::move(binding));
    return {};
}

Result<void> EmbeddedBroker::queue_unbind(const std::string& queue, const std::string& exchange,
                                          const std::string& routing_key,
                                          const FieldTable& arguments) {
    std::lock_guard lock(mutex_);
    Exchange* source = find_exchange(exchange);
    if (source == nullptr) {
        return make_error(Errc::exchange_not_found, "no exchange '" + exchange + "'");
    }
    if (exchange.empty()) {
        return make_error(Errc::access_refused, "the default exchange's bindings are implicit");
    }
    Binding binding{queue, routing_key, arguments};
    auto found = std::find(source->bindings.begin(), source->bindings.end(), binding);
    if (found == source->bindings.end()) return {};
    const Queue* target = find_queue(queue);
    if (source->options.durable && target && journaled(*target)) {
        journal_binding(RecordType::unbind, exchange, binding);
    }
    source->bindings.erase(found);
    if (source->bindings.empty() && source->options.auto_delete && !source->predeclared) {
        if (source->options.durable) journal_name(RecordType::exchange_delete, exchange);
        exchanges_.erase(exchange);
    }
    return {};
}

// Drops every binding to a deleted queue, and auto-delete exchanges left without bindings.
void EmbeddedBroker::drop_bindings_of(const std::string& queue) {
    for (auto it = exchanges_.begin(); it != exchanges_.end();) {
        Exchange& exchange = it->second;
        const auto removed = std::erase_if(
            exchange.bindings, [&](const Binding& binding) { return binding.queue == queue; });
        if (removed > 0 && exchange.bindings.empty() && exchange.options.auto_delete &&
            !exchange.predeclared) {
            if (exchange.options.durable) journal_name(RecordType::exchange_delete, it->first);
            it = exchanges_.erase(it);
        } else {
            ++it;
        }
    }
}

Result<SessionId> EmbeddedBroker::open_session(const std::string& owner) {
    std::lock_guard lock(mutex_);
    auto session = std::make_shared<Session>();
    session->id = ++last_session_id_;
    session->owner = owner;
    sessions_.emplace(session->id, session);
    return session->id;
}

Result<EmbeddedBroker::SessionPtr> EmbeddedBroker::require_session(SessionId session) {
    auto found = sessions_.find(session);
    if (found == sessions_.end()) {
        return make_error(Errc::session_not_found,
                          "no session " + std::to_string(session) +
                              ": it was closed or never opened; open a session first");
    }
    return found->second;
}

Result<void> EmbeddedBroker::close_session(SessionId id) {
    Effects effects;
    {
        std::lock_guard lock(mutex_);
        auto session = require_session(id);
        if (!session) return session.error();
        SessionPtr closing = *session;
        sessions_.erase(id);
        // The consumers stop first, so that nothing requeued here goes back to them. Requeueing
        // runs newest first, so that the oldest message ends up at the head.
        std::vector<ConsumerPtr> stopped;
        for (const std::string& tag : closing->consumer_tags) stopped.push_back(consumers_.at(tag));
        for (const ConsumerPtr& consumer : stopped) unlink_consumer(consumer);
        std::vector<std::uint64_t> held;
        for (auto it = closing->tags.rbegin(); it != closing->tags.rend(); ++it) {
            held.push_back(it->second);
        }
        for (std::uint64_t tag : held) (void)settle(tag, Settle::release, effects);
        closing->tags.clear();
        for (const ConsumerPtr& consumer : stopped) after_consumer_left(consumer->queue, effects);
    }
    run(effects);
    return {};
}

void EmbeddedBroker::release_owner(const std::string& owner) {
    std::vector<SessionId> owned;
    std::vector<std::string> exclusive;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, session] : sessions_) {
            if (session->owner == owner) owned.push_back(id);
        }
        for (const auto& [name, queue] : queues_) {
            if (queue.options.exclusive && queue.options.owner == owner) exclusive.push_back(name);
        }
    }
    for (SessionId id : owned) (void)close_session(id);
    DeleteOptions as_owner;
    as_owner.owner = owner;
    for (const std::string& name : exclusive) (void)queue_delete(name, as_owner);
}

Result<void> EmbeddedBroker::basic_qos(SessionId id, std::uint32_t prefetch_count, bool global) {
    Effects effects;
    {
        std::lock_guard lock(mutex_);
        auto session = require_session(id);
        if (!session) return session.error();
        if (global) {
            (*session)->global_prefetch = prefetch_count;
            for (const std::string& tag : (*session)->consumer_tags) {
                if (Queue* queue = find_queue(consumers_.at(tag)->queue)) {
                    dispatch(*queue, effects);
                }
            }
        } else {
            (*session)->consumer_prefetch = prefetch_count;
        }
    }
    run(effects);
    return {};
}

Result<std::optional<GetOk>> EmbeddedBroker::basic_get(SessionId id, const std::string& queue,
                                                       bool no_ack) {
    Effects effects;
    std::optional<GetOk> got;
    {
        std::lock_guard lock(mutex_);
        SessionPtr session;
        if (id != 0) {
            auto found = require_session(id);
            if (!found) return found.error();
            session = *found;
        }
        auto found = require_usable_queue(queue, session ? session->owner : std::string());
        if (!found) return found.error();
        Queue& source = **found;
        expire_heads(source, effects);
        if (source.ready_count > 0) {
            QueuedMessage next = pop_head(source);
            ++source.counters.delivered_total;
            if (next.redelivered) ++source.counters.redelivered_total;
            std::uint64_t visible_tag = 0;
            const std::uint64_t tag =
                no_ack ? ++last_delivery_tag_ : assign_tags(source, nullptr, session, visible_tag);
            if (no_ack) visible_tag = session ? ++session->last_tag : tag;
            const StoredMessage& stored = *next.stored;
            got = GetOk{Delivery{visible_tag, queue, "", next.redelivered, stored.message,
                                 stored.exchange, stored.routing_key},
                        source.ready_count};
            if (no_ack) {
                ++source.counters.acked_total;
                forget_message(source, next);
            } else {
                journal_delivered(next);
                unacked_.at(tag).message = std::move(next);
            }
        }
        update_blocked(effects);
    }
    run(effects);
    return got;
}

// The broker tags that a session tag (or, with multiple, every tag up to it) stands for.
Result<std::vector<std::uint64_t>> EmbeddedBroker::session_tags(Session& session, std::uint64_t tag,
                                                                bool multiple) {
    std::vector<std::uint64_t> tags;
    if (!multiple) {
        auto found = session.tags.find(tag);
        if (found == session.tags.end()) {
            return make_error(Errc::unknown_delivery_tag,
                              "unknown delivery tag " + std::to_string(tag) +
                                  " on this session: it was settled already or never delivered");
        }
        tags.push_back(found->second);
        return tags;
    }
    if (tag != 0 && !session.tags.contains(tag)) {
        return make_error(Errc::unknown_delivery_tag,
                          "unknown delivery tag " + std::to_string(tag) +
                              " on this session: it was settled already or never delivered");
    }
    auto end = tag == 0 ? session.tags.end() : session.tags.upper_bound(tag);
    for (auto it = session.tags.begin(); it != end; ++it) tags.push_back(it->second);
    return tags;
}

Result<void> EmbeddedBroker::settle_session(SessionId id, std::uint64_t tag, bool multiple,
                                            Settle how) {
    Effects effects;
    {
        std::lock_guard lock(mutex_);
        auto session = require_session(id);
        if (!session) return session.error();
        auto tags = session_tags(**session, tag, multiple);
        if (!tags) return tags.error();
        // Requeue newest first so that the oldest ends up at the head.
        if (how == Settle::requeue || how == Settle::release) {
            std::reverse(tags->begin(), tags->end());
        }
        for (std::uint64_t broker_tag : *tags) {
            if (!settle(broker_tag, how, effects)) {
                // Its queue was deleted: the message is gone, and settling it is a no-op.
                std::erase_if((*session)->tags,
                              [&](const auto& entry) { return entry.second == broker_tag; });
            }
        }
    }
    run(effects);
    return {};
}

Result<void> EmbeddedBroker::basic_ack(SessionId session, std::uint64_t tag, bool multiple) {
    return settle_session(session, tag, multiple, Settle::ack);
}

Result<void> EmbeddedBroker::basic_nack(SessionId session, std::uint64_t tag, bool multiple,
                                        bool requeue) {
    return settle_session(session, tag, multiple, requeue ? Settle::requeue : Settle::discard);
}

Result<void> EmbeddedBroker::basic_reject(SessionId session, std::uint64_t tag, bool requeue) {
    return settle_session(session, tag, false, requeue ? Settle::requeue : Settle::discard);
}

Result<void> EmbeddedBroker::basic_recover(SessionId session) {
    return settle_session(session, 0, true, Settle::release);
}

std::vector<ExchangeInfo> EmbeddedBroker::list_exchanges() {
    std::lock_guard lock(mutex_);
    std::vector<ExchangeInfo> all;
    for (const auto& [name, exchange] : exchanges_) {
        const auto& o = exchange.options;
        all.push_back(ExchangeInfo{name, o.type, o.durable, o.auto_delete, o.internal});
    }
    return all;
}

std::vector<BindingInfo> EmbeddedBroker::list_bindings() {
    std::lock_guard lock(mutex_);
    std::vector<BindingInfo> all;
    for (const auto& [name, exchange] : exchanges_) {
        for (const Binding& binding : exchange.bindings) {
            all.push_back(BindingInfo{name, binding.queue, binding.routing_key, binding.arguments});
        }
    }
    return all;
}

std::vector<ConsumerInfo> EmbeddedBroker::list_consumers() {
    std::lock_guard lock(mutex_);
    std::vector<ConsumerInfo> all;
    all.reserve(consumers_.size());
    for (const auto& [tag, consumer] : consumers_) {
        const auto& session = consumer->session;
        all.push_back(ConsumerInfo{.consumer_tag = tag,
                                   .queue = consumer->queue,
                                   .session = session ? session->id : 0,
                                   .owner = session ? session->owner : std::string(),
                                   .prefetch_count = consumer->window,
                                   .no_ack = consumer->no_ack,
                                   .exclusive = consumer->exclusive});
    }
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.consumer_tag < b.consumer_tag; });
    return all;
}

std::vector<SessionInfo> EmbeddedBroker::list_sessions() {
    std::lock_guard lock(mutex_);
    std::vector<SessionInfo> all;
    all.reserve(sessions_.size());
    for (const auto& [id, session] : sessions_) {
        all.push_back(SessionInfo{.id = id,
                                  .owner = session->owner,
                                  .messages_unacknowledged = session->tags.size(),
                                  .prefetch_count = session->consumer_prefetch,
                                  .global_prefetch_count = session->global_prefetch,
                                  .consumer_count = session->consumer_tags.size()});
    }
    return all;
}

BrokerStats EmbeddedBroker::broker_stats() {
    std::lock_guard lock(mutex_);
    BrokerStats stats;
    stats.message_bytes = message_bytes_;
    stats.memory_limit_bytes = options_.memory_limit_bytes;
    stats.blocked = blocked_;
    if (journal_) {
        JournalStats journal = journal_->stats();
        stats.journal_bytes = journal.bytes;
        stats.journal_live_bytes = journal.live_bytes;
        stats.journal_syncs_total = journal.syncs_total;
        stats.compactions_total = journal.compactions_total;
    }
    return stats;
}

std::uint64_t EmbeddedBroker::add_blocked_listener(BlockedHandler handler) {
    bool blocked_now = false;
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = ++last_listener_id_;
        blocked_listeners_.emplace(id, handler);
        blocked_now = blocked_;
    }
    if (blocked_now) handler(true);
    return id;
}

void EmbeddedBroker::remove_blocked_listener(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    blocked_listeners_.erase(id);
}

}  // namespace imgbus::broker
