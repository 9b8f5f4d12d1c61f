// SPDX-License-Identifier: MIT
#include "embedded_broker.hpp"

#include <algorithm>
#include <cassert>
#include <future>
#include <utility>

#include "queue_arguments.hpp"

namespace imgbus::broker {

namespace {

Error unknown_tag_error(std::uint64_t delivery_tag) {
    return make_error(Errc::unknown_delivery_tag,
                      "unknown delivery tag " + std::to_string(delivery_tag) +
                          ": it was already acked, nacked or rejected, its consumer was "
                          "cancelled, or its queue was deleted");
}

}  // namespace

std::unique_ptr<Broker> make_embedded_broker() {
    auto broker = std::make_unique<EmbeddedBroker>();
    auto opened = broker->open();
    assert(opened.ok());  // nothing can fail without a journal
    (void)opened;
    return broker;
}

Result<std::unique_ptr<Broker>> open_embedded_broker(const BrokerOptions& options) {
    auto broker = std::make_unique<EmbeddedBroker>(options);
    if (auto opened = broker->open(); !opened) return opened.error();
    return std::unique_ptr<Broker>(std::move(broker));
}

EmbeddedBroker::EmbeddedBroker(BrokerOptions options) : options_(std::move(options)) {
    predeclare_exchanges();
}

EmbeddedBroker::~EmbeddedBroker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    sweep_wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    // The sync thread may call compact(), which uses journal_: stop it before resetting.
    if (journal_) journal_->stop();
    journal_.reset();
}

Result<void> EmbeddedBroker::open() {
    if (!options_.data_dir.empty()) {
        JournalOptions journal_options{options_.data_dir, options_.segment_bytes,
                                       options_.compact_min_bytes, options_.sync_interval,
                                       options_.fsync};
        journal_ = std::make_unique<Journal>(journal_options);
        auto replayed = journal_->replay(
            [this](RecordType type, std::string_view payload, std::uint32_t bytes) {
                return apply_record(type, payload, bytes);
            });
        if (!replayed) return replayed;
        finish_replay();
        journal_->start([this] { compact(); });
    }
    sweeper_ = std::thread([this] { sweep_loop(); });
    return {};
}

Result<void> EmbeddedBroker::declare_queue(const std::string& queue, const QueueOptions& options) {
    if (queue.empty()) {
        return make_error(Errc::invalid_argument,
                          "invalid queue name '': it must have 1 to 255 bytes (queue_declare "
                          "generates a name for an empty one)");
    }
    auto declared = queue_declare(queue, options);
    if (!declared) return declared.error();
    return {};
}

Result<void> EmbeddedBroker::delete_queue(const std::string& queue) {
    auto deleted = queue_delete(queue, DeleteOptions{});
    if (!deleted) return deleted.error();
    return {};
}

// Publishes through the default exchange and, for a journaled message, waits for its fsync.
Result<void> EmbeddedBroker::publish(const std::string& queue, Message message) {
    Effects effects;
    auto routed = publish_message("", queue, std::move(message), Write::with_sync, effects);
    run(effects);
    if (!routed) return routed.error();
    if (routed->outcome.unroutable()) {
        return make_error(Errc::queue_not_found,
                          "queue '" + queue + "' not found; declare it before using it");
    }
    if (routed->outcome.rejected_queues > 0) {
        std::lock_guard lock(mutex_);
        const Queue* target = find_queue(queue);
        return make_error(
            Errc::queue_full,
            "queue '" + queue + "' is full: it holds its limit of " +
                std::to_string(target ? target->options.max_length_messages : 0) +
                " ready messages (max_length_messages) or of its bytes (max_length_bytes); retry "
                "later or add consumers");
    }
    bool safe = !routed->journal_failed;
    if (safe && routed->journaled) {
        std::promise<bool> synced;
        auto done = synced.get_future();
        journal_->after_sync([&synced](bool ok) { synced.set_value(ok); });
        safe = done.get();
    }
    if (!safe) {
        return make_error(Errc::journal_failed,
                          "the message to queue '" + queue +
                              "' could not be written to the broker journal in " +
                              options_.data_dir.string() + "; check the disk");
    }
    return {};
}

Result<std::string> EmbeddedBroker::consume(const std::string& queue, std::uint32_t prefetch,
                                            DeliveryHandler handler) {
    Effects effects;
    Result<std::string> tag = std::string();
    {
        std::lock_guard lock(mutex_);
        auto found = require_queue(queue);
        if (!found) return found.error();
        std::size_t window = prefetch == 0 ? (*found)->options.max_length_messages : prefetch;
        tag = add_consumer(queue, window, ConsumeOptions{}, std::move(handler), effects);
    }
    run(effects);
    return tag;
}

Result<std::string> EmbeddedBroker::basic_consume(const std::string& queue,
                                                  const ConsumeOptions& options,
                                                  DeliveryHandler handler) {
    Effects effects;
    Result<std::string> tag = std::string();
    {
        std::lock_guard lock(mutex_);
        std::size_t window = options.prefetch;
        if (options.session != 0) {
            auto session = require_session(options.session);
            if (!session) return session.error();
            if (window == 0) window = (*session)->consumer_prefetch;
        }
        tag = add_consumer(queue, window, options, std::move(handler), effects);
    }
    run(effects);
    return tag;
}

Result<std::string> EmbeddedBroker::add_consumer(const std::string& queue, std::size_t window,
                                                 const ConsumeOptions& options,
                                                 DeliveryHandler handler, Effects& effects) {
    if (!handler) {
        return make_error(Errc::invalid_argument,
                          "consume on queue '" + queue + "' needs a delivery handler");
    }
    SessionPtr session;
    if (options.session != 0) session = sessions_.at(options.session);
    auto found = require_usable_queue(queue, session ? session->owner : std::string());
    if (!found) return found.error();
    Queue& source = **found;
    if (!source.consumers.empty() && (options.exclusive || source.consumers.front()->exclusive)) {
        return make_error(Errc::access_refused,
                          "queue '" + queue + "' is in exclusive use: an exclusive consumer " +
                              "needs a queue without other consumers");
    }
    std::string tag = options.consumer_tag;
    if (tag.empty()) tag = "amq.ctag-" + std::to_string(++last_consumer_id_);
    if (consumers_.contains(tag)) {
        return make_error(Errc::in_use,
                          "consumer tag '" + tag + "' is in use; pick another or leave it empty");
    }
    auto consumer = std::make_shared<Consumer>();
    consumer->tag = tag;
    consumer->queue = queue;
    consumer->window = window;
    consumer->no_ack = options.no_ack;
    consumer->exclusive = options.exclusive;
    consumer->share_message = options.share_message;
    consumer->handler = std::move(handler);
    consumer->on_cancelled = options.on_cancelled;
    consumer->session = session;
    if (session) session->consumer_tags.insert(tag);
    source.consumers.push_back(consumer);
    source.had_consumer = true;
    consumers_.emplace(tag, std::move(consumer));
    dispatch(source, effects);
    return tag;
}

Result<void> EmbeddedBroker::cancel(const std::string& consumer_tag) {
    Effects effects;
    {
        std::lock_guard lock(mutex_);
        auto found = consumers_.find(consumer_tag);
        if (found == consumers_.end()) {
            return make_error(Errc::consumer_not_found,
                              "no consumer with tag '" + consumer_tag +
                                  "': it was cancelled already, its queue was deleted, or the "
                                  "tag is wrong");
        }
        remove_consumer(found->second, effects);
    }
    run(effects);
    return {};
}

// Unregisters a consumer, requeues its unacked messages and deletes an auto-delete queue that
// it leaves without consumers.
void EmbeddedBroker::remove_consumer(ConsumerPtr consumer, Effects& effects) {
    unlink_consumer(consumer);
    requeue_unacked_of(*consumer, effects);
    after_consumer_left(consumer->queue, effects);
    if (consumer->session) {
        for (const std::string& tag : consumer->session->consumer_tags) {
            if (Queue* other = find_queue(consumers_.at(tag)->queue)) dispatch(*other, effects);
        }
    }
}

// Takes the consumer out of its queue's rotation; its unacked messages stay unacked.
void EmbeddedBroker::unlink_consumer(const ConsumerPtr& consumer) {
    consumers_.erase(consumer->tag);
    consumer->cancelled = true;
    consumer->outbox.clear();
    if (consumer->session) consumer->session->consumer_tags.erase(consumer->tag);
    Queue* source = find_queue(consumer->queue);
    assert(source != nullptr);  // erase_queue removes the consumers of the queue
    auto& list = source->consumers;
    list.erase(std::find(list.begin(), list.end(), consumer));
    source->next_consumer = list.empty() ? 0 : source->next_consumer % list.size();
}

void EmbeddedBroker::after_consumer_left(const std::string& queue, Effects& effects) {
    Queue* source = find_queue(queue);
    if (source == nullptr) return;
    if (source->consumers.empty() && source->options.auto_delete) {
        erase_queue(queue, effects);
        return;
    }
    dispatch(*source, effects);
}

Result<void> EmbeddedBroker::ack(std::uint64_t delivery_tag) {
    Effects effects;
    Result<void> settled;
    {
        std::lock_guard lock(mutex_);
        settled = settle(delivery_tag, Settle::ack, effects);
    }
    run(effects);
    return settled;
}

Result<void> EmbeddedBroker::nack(std::uint64_t delivery_tag, bool requeue) {
    Effects effects;
    Result<void> settled;
    {
        std::lock_guard lock(mutex_);
        settled = settle(delivery_tag, requeue ? Settle::requeue : Settle::discard, effects);
    }
    run(effects);
    return settled;
}

Result<void> EmbeddedBroker::reject(std::uint64_t delivery_tag, bool requeue) {
    return nack(delivery_tag, requeue);
}

// Ends one unacked delivery: acked, back to the queue, or dead-lettered (reason "rejected").
Result<void> EmbeddedBroker::settle(std::uint64_t delivery_tag, Settle how, Effects& effects) {
    auto found = unacked_.find(delivery_tag);
    if (found == unacked_.end()) return unknown_tag_error(delivery_tag);
    Unacked entry = std::move(found->second);
    unacked_.erase(found);

    Queue& source = *entry.queue;
    assert(source.unacked > 0);
    --source.unacked;
    if (entry.consumer) entry.consumer->unacked_tags.erase(delivery_tag);
    if (entry.session) {
        entry.session->tags.erase(entry.session_tag);
        if (entry.consumer) --entry.session->limited_unacked;
    }
    switch (how) {
        case Settle::ack:
            ++source.counters.acked_total;
            forget_message(source, entry.message);
            break;
        case Settle::requeue:
        case Settle::release:
            if (how == Settle::requeue) ++source.counters.nacked_total;
            entry.message.redelivered = true;
            push_front(source, std::move(entry.message));
            break;
        case Settle::discard:
            ++source.counters.nacked_total;
            dead_letter(source, std::move(entry.message), "rejected", effects);
            break;
    }
    dispatch(source, effects);
    if (entry.session && entry.session->global_prefetch != 0) {
        for (const std::string& tag : entry.session->consumer_tags) {
            if (Queue* other = find_queue(consumers_.at(tag)->queue)) dispatch(*other, effects);
        }
    }
    update_blocked(effects);
    return {};
}

Result<std::size_t> EmbeddedBroker::purge(const std::string& queue) {
    Effects effects;
    std::size_t purged = 0;
    {
        std::lock_guard lock(mutex_);
        auto found = require_queue(queue);
        if (!found) return found.error();
        Queue& target = **found;
        purged = target.ready_count;
        while (target.ready_count > 0) forget_message(target, pop_head(target));
        target.counters.dropped_total += purged;
        update_blocked(effects);
    }
    run(effects);
    return purged;
}

Result<QueueStats> EmbeddedBroker::queue_stats(const std::string& queue) {
    std::lock_guard lock(mutex_);
    auto found = require_queue(queue);
    if (!found) return found.error();
    return stats_of(queue, **found);
}

std::vector<QueueStats> EmbeddedBroker::list_queues() {
    std::lock_guard lock(mutex_);
    std::vector<QueueStats> all;
    all.reserve(queues_.size());
    for (const auto& [name, queue] : queues_) all.push_back(stats_of(name, queue));
    return all;
}

EmbeddedBroker::Queue* EmbeddedBroker::find_queue(const std::string& queue) {
    auto found = queues_.find(queue);
    return found == queues_.end() ? nullptr : &found->second;
}

Result<EmbeddedBroker::Queue*> EmbeddedBroker::require_queue(const std::string& queue) {
    if (Queue* found = find_queue(queue)) return found;
    return make_error(Errc::queue_not_found,
                      "queue '" + queue + "' not found; declare it before using it");
}

// The queue, unless it is exclusive to another connection than `owner`.
Result<EmbeddedBroker::Queue*> EmbeddedBroker::require_usable_queue(const std::string& queue,
                                                                    const std::string& owner) {
    auto found = require_queue(queue);
    if (!found) return found;
    const QueueOptions& options = (*found)->options;
    if (options.exclusive && options.owner != owner) {
        return make_error(Errc::resource_locked,
                          "cannot obtain exclusive access to locked queue '" + queue +
                              "': another connection declared it exclusive");
    }
    return found;
}

// Moves ready messages to consumers with room, round robin, until either runs out. Expired
// heads are dead-lettered first.
void EmbeddedBroker::dispatch(Queue& queue, Effects& effects) {
    for (;;) {
        expire_heads(queue, effects);
        if (queue.ready_count == 0) return;
        ConsumerPtr consumer = next_consumer_with_room(queue);
        if (!consumer) return;
        QueuedMessage next = pop_head(queue);
        ++queue.counters.delivered_total;
        if (next.redelivered) ++queue.counters.redelivered_total;

        std::uint64_t visible_tag = 0;
        const std::uint64_t tag = assign_tags(queue, consumer, consumer->session, visible_tag);
        consumer->outbox.push_back(PendingDelivery{visible_tag, next.redelivered, next.stored});
        if (consumer->no_ack) {
            ++queue.counters.acked_total;
            forget_message(queue, next);
        } else {
            journal_delivered(next);
            unacked_.at(tag).message = std::move(next);
        }
        if (!consumer->draining) {
            consumer->draining = true;
            effects.drains.push_back(std::move(consumer));
        }
    }
}

// Gives a delivery its broker tag and, in a session, its session tag; registers it as unacked
// unless the consumer is no-ack. Returns the broker tag.
std::uint64_t EmbeddedBroker::assign_tags(Queue& queue, const ConsumerPtr& consumer,
                                          const SessionPtr& session, std::uint64_t& visible_tag) {
    const std::uint64_t tag = ++last_delivery_tag_;
    const std::uint64_t session_tag = session ? ++session->last_tag : 0;
    visible_tag = session ? session_tag : tag;
    if (consumer && consumer->no_ack) return tag;

    unacked_.emplace(tag, Unacked{&queue, consumer, session, session_tag, {}});
    ++queue.unacked;
    if (consumer) consumer->unacked_tags.insert(tag);
    if (session) {
        session->tags.emplace(session_tag, tag);
        if (consumer) ++session->limited_unacked;
    }
    return tag;
}

EmbeddedBroker::ConsumerPtr EmbeddedBroker::next_consumer_with_room(Queue& queue) {
    const std::size_t count = queue.consumers.size();
    for (std::size_t step = 0; step < count; ++step) {
        std::size_t index = (queue.next_consumer + step) % count;
        const ConsumerPtr& candidate = queue.consumers[index];
        const Session* session = candidate->session.get();
        bool room =
            candidate->no_ack ||
            ((candidate->window == 0 || candidate->unacked_tags.size() < candidate->window) &&
             (session == nullptr || session->global_prefetch == 0 ||
              session->limited_unacked < session->global_prefetch));
        if (room) {
            queue.next_consumer = (index + 1) % count;
            return candidate;
        }
    }
    return nullptr;
}

// Puts a cancelled consumer's unacked messages back at the head of the queue, oldest first.
void EmbeddedBroker::requeue_unacked_of(Consumer& consumer, Effects& effects) {
    const std::vector<std::uint64_t> tags(consumer.unacked_tags.rbegin(),
                                          consumer.unacked_tags.rend());
    for (std::uint64_t tag : tags) {
        Result<void> settled = settle(tag, Settle::release, effects);
        assert(settled.ok());
        (void)settled;
    }
}

// Removes a queue with its ready and unacked messages, consumers and bindings.
void EmbeddedBroker::erase_queue(const std::string& name, Effects& effects) {
    Queue& queue = queues_.at(name);
    for (const ConsumerPtr& consumer : queue.consumers) {
        consumer->cancelled = true;
        consumer->outbox.clear();
        consumers_.erase(consumer->tag);
        if (consumer->session) consumer->session->consumer_tags.erase(consumer->tag);
        if (consumer->on_cancelled) {
            effects.calls.push_back(
                [handler = consumer->on_cancelled, tag = consumer->tag] { handler(tag); });
        }
    }
    for (auto it = unacked_.begin(); it != unacked_.end();) {
        if (it->second.queue != &queue) {
            ++it;
            continue;
        }
        if (it->second.session && it->second.consumer) --it->second.session->limited_unacked;
        forget_message(queue, it->second.message);
        it = unacked_.erase(it);  // the session keeps the tag; settling it later is a no-op
    }
    while (queue.ready_count > 0) forget_message(queue, pop_head(queue));
    if (journaled(queue)) journal_name(RecordType::queue_delete, name);
    drop_bindings_of(name);
    queues_.erase(name);
    update_blocked(effects);
}

// Hands the consumer's outbox to its handler one delivery at a time, until the outbox is empty
// or the consumer is cancelled. noexcept: a handler that throws ends the process, because the
// broker cannot tell whether the delivery was taken over.
void EmbeddedBroker::drain(const ConsumerPtr& consumer) noexcept {
    for (;;) {
        PendingDelivery next;
        {
            std::lock_guard lock(mutex_);
            if (consumer->cancelled || consumer->outbox.empty()) {
                consumer->draining = false;
                return;
            }
            next = std::move(consumer->outbox.front());
            consumer->outbox.pop_front();
        }
        const StoredMessage& stored = *next.stored;
        Delivery delivery{next.visible_tag, consumer->queue,   consumer->tag, next.redelivered, {},
                          stored.exchange,  stored.routing_key};
        if (consumer->share_message) {
            // Shares the stored message's ownership and points at its Message member.
            delivery.shared_message =
                std::shared_ptr<const Message>(std::move(next.stored), &stored.message);
        } else {
            delivery.message = stored.message;
        }
        consumer->handler(std::move(delivery));
    }
}

void EmbeddedBroker::run(Effects& effects) {
    for (const ConsumerPtr& consumer : effects.drains) drain(consumer);
    for (const auto& call : effects.calls) call();
}

QueueStats EmbeddedBroker::stats_of(const std::string& name, const Queue& queue) {
    QueueStats stats = queue.counters;
    stats.name = name;
    stats.durable = queue.options.durable;
    stats.messages_ready = queue.ready_count;
    stats.messages_unacknowledged = queue.unacked;
    stats.consumers = queue.consumers.size();
    stats.max_length_messages = queue.options.max_length_messages;
    stats.message_bytes_ready = queue.ready_bytes;
    stats.exclusive = queue.options.exclusive;
    stats.auto_delete = queue.options.auto_delete;
    return stats;
}

}  // namespace imgbus::broker
