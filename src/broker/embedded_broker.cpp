// SPDX-License-Identifier: MIT
#include "embedded_broker.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace imgbus::broker {

namespace {

// AMQP 0-9-1 carries queue names in a short string.
constexpr std::size_t kMaxQueueNameBytes = 255;
// The largest accepted max_length_messages, so that a typo cannot declare an unbounded queue.
constexpr std::size_t kMaxQueueLengthMessages = 10'000'000;

const char* overflow_name(Overflow overflow) {
    return overflow == Overflow::reject_publish ? "reject_publish" : "drop_head";
}

Result<void> validate_queue_name(const std::string& queue) {
    if (queue.empty() || queue.size() > kMaxQueueNameBytes) {
        return make_error(Errc::invalid_argument,
                          "invalid queue name '" + queue + "': it must have 1 to " +
                              std::to_string(kMaxQueueNameBytes) + " bytes");
    }
    return {};
}

Result<void> validate_options(const std::string& queue, const QueueOptions& options) {
    if (options.max_length_messages == 0 || options.max_length_messages > kMaxQueueLengthMessages) {
        return make_error(Errc::invalid_argument, "invalid max_length_messages " +
                                                      std::to_string(options.max_length_messages) +
                                                      " for queue '" + queue +
                                                      "': use a value from 1 to " +
                                                      std::to_string(kMaxQueueLengthMessages));
    }
    return {};
}

// Names the first option in which `requested` differs from `existing`, or returns an empty string.
std::string describe_mismatch(const QueueOptions& existing, const QueueOptions& requested) {
    if (existing.max_length_messages != requested.max_length_messages) {
        return "max_length_messages = " + std::to_string(existing.max_length_messages) +
               " (requested " + std::to_string(requested.max_length_messages) + ")";
    }
    if (existing.overflow != requested.overflow) {
        return std::string("overflow = ") + overflow_name(existing.overflow) + " (requested " +
               overflow_name(requested.overflow) + ")";
    }
    if (existing.durable != requested.durable) {
        return std::string("durable = ") + (existing.durable ? "true" : "false");
    }
    return {};
}

Error unknown_tag_error(std::uint64_t delivery_tag) {
    return make_error(Errc::unknown_delivery_tag,
                      "unknown delivery tag " + std::to_string(delivery_tag) +
                          ": it was already acked, nacked or rejected, its consumer was "
                          "cancelled, or its queue was deleted");
}

}  // namespace

std::unique_ptr<Broker> make_embedded_broker() { return std::make_unique<EmbeddedBroker>(); }

Result<std::unique_ptr<Broker>> open_embedded_broker(const BrokerOptions& options) {
    if (!options.data_dir.empty()) {
        return make_error(Errc::not_supported, "the broker journal in " +
                                                   options.data_dir.string() +
                                                   " is not available yet; leave data_dir empty");
    }
    return std::unique_ptr<Broker>(std::make_unique<EmbeddedBroker>());
}

Result<void> EmbeddedBroker::declare_queue(const std::string& queue, const QueueOptions& options) {
    if (auto valid = validate_queue_name(queue); !valid) {
        return valid;
    }
    if (auto valid = validate_options(queue, options); !valid) {
        return valid;
    }

    std::lock_guard lock(mutex_);
    if (Queue* existing = find_queue(queue)) {
        std::string mismatch = describe_mismatch(existing->options, options);
        if (mismatch.empty()) {
            return {};
        }
        return make_error(Errc::queue_exists_with_other_options,
                          "queue '" + queue + "' already exists with " + mismatch +
                              "; declare it with the same options or delete it first");
    }
    Queue& created = queues_[queue];
    created.options = options;
    created.counters.name = queue;
    return {};
}

Result<void> EmbeddedBroker::delete_queue(const std::string& queue) {
    std::lock_guard lock(mutex_);
    auto found = require_queue(queue);
    if (!found) {
        return found.error();
    }
    for (const ConsumerPtr& consumer : (*found)->consumers) {
        for (std::uint64_t tag : consumer->unacked_tags) {
            unacked_.erase(tag);
        }
        consumer->cancelled = true;
        consumer->outbox.clear();
        consumers_.erase(consumer->tag);
    }
    queues_.erase(queue);
    return {};
}

Result<void> EmbeddedBroker::publish(const std::string& queue, Message message) {
    message.published_at = std::chrono::system_clock::now();
    auto shared = std::make_shared<const Message>(std::move(message));

    DrainList to_drain;
    {
        std::lock_guard lock(mutex_);
        auto found = require_queue(queue);
        if (!found) {
            return found.error();
        }
        Queue& target = **found;
        if (target.ready.size() >= target.options.max_length_messages) {
            if (target.options.overflow == Overflow::reject_publish) {
                ++target.counters.rejected_publish_total;
                return make_error(
                    Errc::queue_full,
                    "queue '" + queue + "' is full: it holds its limit of " +
                        std::to_string(target.options.max_length_messages) +
                        " ready messages (max_length_messages); retry later or add consumers");
            }
            target.ready.pop_front();
            ++target.counters.dropped_total;
        }
        target.ready.push_back(ReadyMessage{std::move(shared), false});
        ++target.counters.published_total;
        dispatch(target, to_drain);
    }
    drain_all(to_drain);
    return {};
}

Result<std::string> EmbeddedBroker::consume(const std::string& queue, std::uint32_t prefetch,
                                            DeliveryHandler handler) {
    if (!handler) {
        return make_error(Errc::invalid_argument,
                          "consume on queue '" + queue + "' needs a delivery handler");
    }

    DrainList to_drain;
    std::string tag;
    {
        std::lock_guard lock(mutex_);
        auto found = require_queue(queue);
        if (!found) {
            return found.error();
        }
        Queue& source = **found;
        auto consumer = std::make_shared<Consumer>();
        consumer->tag = tag = "ctag-" + std::to_string(++last_consumer_id_);
        consumer->queue = queue;
        consumer->window = prefetch == 0 ? source.options.max_length_messages : prefetch;
        consumer->handler = std::move(handler);
        source.consumers.push_back(consumer);
        consumers_.emplace(tag, std::move(consumer));
        dispatch(source, to_drain);
    }
    drain_all(to_drain);
    return tag;
}

Result<void> EmbeddedBroker::cancel(const std::string& consumer_tag) {
    DrainList to_drain;
    {
        std::lock_guard lock(mutex_);
        auto found = consumers_.find(consumer_tag);
        if (found == consumers_.end()) {
            return make_error(Errc::consumer_not_found,
                              "no consumer with tag '" + consumer_tag +
                                  "': it was cancelled already, its queue was deleted, or the "
                                  "tag is wrong");
        }
        ConsumerPtr consumer = found->second;
        consumers_.erase(found);
        consumer->cancelled = true;
        consumer->outbox.clear();

        Queue* source = find_queue(consumer->queue);
        assert(source != nullptr);  // delete_queue removes the consumers of the queue
        requeue_unacked_of(*consumer, source);
        auto& list = source->consumers;
        list.erase(std::find(list.begin(), list.end(), consumer));
        source->next_consumer = list.empty() ? 0 : source->next_consumer % list.size();
        dispatch(*source, to_drain);
    }
    drain_all(to_drain);
    return {};
}

Result<void> EmbeddedBroker::ack(std::uint64_t delivery_tag) {
    DrainList to_drain;
    {
        std::lock_guard lock(mutex_);
        auto found = unacked_.find(delivery_tag);
        if (found == unacked_.end()) {
            return unknown_tag_error(delivery_tag);
        }
        Queue& source = queues_.at(found->second.queue);
        settle(delivery_tag, found->second);
        unacked_.erase(found);
        ++source.counters.acked_total;
        dispatch(source, to_drain);
    }
    drain_all(to_drain);
    return {};
}

Result<void> EmbeddedBroker::nack(std::uint64_t delivery_tag, bool requeue) {
    return settle_negative(delivery_tag, requeue);
}

Result<void> EmbeddedBroker::reject(std::uint64_t delivery_tag, bool requeue) {
    return settle_negative(delivery_tag, requeue);
}

// nack and reject: AMQP's reject is a nack of one message, and the embedded broker has no
// multiple-tag form, so both settle one delivery the same way.
Result<void> EmbeddedBroker::settle_negative(std::uint64_t delivery_tag, bool requeue) {
    DrainList to_drain;
    {
        std::lock_guard lock(mutex_);
        auto found = unacked_.find(delivery_tag);
        if (found == unacked_.end()) {
            return unknown_tag_error(delivery_tag);
        }
        Queue& source = queues_.at(found->second.queue);
        settle(delivery_tag, found->second);
        ++source.counters.nacked_total;
        if (requeue) {
            source.ready.push_front(ReadyMessage{std::move(found->second.message.message), true});
        }
        unacked_.erase(found);
        dispatch(source, to_drain);
    }
    drain_all(to_drain);
    return {};
}

Result<std::size_t> EmbeddedBroker::purge(const std::string& queue) {
    std::lock_guard lock(mutex_);
    auto found = require_queue(queue);
    if (!found) {
        return found.error();
    }
    Queue& target = **found;
    std::size_t purged = target.ready.size();
    target.ready.clear();
    target.counters.dropped_total += purged;
    return purged;
}

Result<QueueStats> EmbeddedBroker::queue_stats(const std::string& queue) {
    std::lock_guard lock(mutex_);
    auto found = require_queue(queue);
    if (!found) {
        return found.error();
    }
    return stats_of(queue, **found);
}

std::vector<QueueStats> EmbeddedBroker::list_queues() {
    std::lock_guard lock(mutex_);
    std::vector<QueueStats> all;
    all.reserve(queues_.size());
    for (const auto& [name, queue] : queues_) {
        all.push_back(stats_of(name, queue));
    }
    return all;
}

EmbeddedBroker::Queue* EmbeddedBroker::find_queue(const std::string& queue) {
    auto found = queues_.find(queue);
    return found == queues_.end() ? nullptr : &found->second;
}

Result<EmbeddedBroker::Queue*> EmbeddedBroker::require_queue(const std::string& queue) {
    if (Queue* found = find_queue(queue)) {
        return found;
    }
    return make_error(Errc::queue_not_found,
                      "queue '" + queue + "' not found; declare it before using it");
}

// Moves ready messages to consumers with room, round robin, until either runs out.
void EmbeddedBroker::dispatch(Queue& queue, DrainList& to_drain) {
    while (!queue.ready.empty()) {
        ConsumerPtr consumer = next_consumer_with_room(queue);
        if (!consumer) {
            return;
        }
        ReadyMessage next = std::move(queue.ready.front());
        queue.ready.pop_front();

        std::uint64_t tag = ++last_delivery_tag_;
        consumer->unacked_tags.insert(tag);
        consumer->outbox.push_back(PendingDelivery{tag, next.redelivered, next.message});
        ++queue.unacked;
        ++queue.counters.delivered_total;
        if (next.redelivered) {
            ++queue.counters.redelivered_total;
        }
        unacked_.emplace(tag, Unacked{queue.counters.name, consumer, std::move(next)});

        if (!consumer->draining) {
            consumer->draining = true;
            to_drain.push_back(std::move(consumer));
        }
    }
}

EmbeddedBroker::ConsumerPtr EmbeddedBroker::next_consumer_with_room(Queue& queue) {
    const std::size_t count = queue.consumers.size();
    for (std::size_t step = 0; step < count; ++step) {
        std::size_t index = (queue.next_consumer + step) % count;
        const ConsumerPtr& candidate = queue.consumers[index];
        if (candidate->unacked_tags.size() < candidate->window) {
            queue.next_consumer = (index + 1) % count;
            return candidate;
        }
    }
    return nullptr;
}

// Removes an unacked delivery from its consumer's window. The caller erases the unacked_ entry.
void EmbeddedBroker::settle(std::uint64_t delivery_tag, Unacked& entry) {
    Queue& source = queues_.at(entry.queue);
    assert(source.unacked > 0);
    --source.unacked;
    entry.consumer->unacked_tags.erase(delivery_tag);
}

// Puts a cancelled consumer's unacked messages back at the head of the queue, oldest first.
void EmbeddedBroker::requeue_unacked_of(Consumer& consumer, Queue* queue) {
    for (auto tag = consumer.unacked_tags.rbegin(); tag != consumer.unacked_tags.rend(); ++tag) {
        auto found = unacked_.find(*tag);
        assert(found != unacked_.end());
        queue->ready.push_front(ReadyMessage{std::move(found->second.message.message), true});
        unacked_.erase(found);
        --queue->unacked;
    }
    consumer.unacked_tags.clear();
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
        Delivery delivery{next.delivery_tag, consumer->queue, consumer->tag, next.redelivered,
                          *next.message};
        consumer->handler(std::move(delivery));
    }
}

void EmbeddedBroker::drain_all(const DrainList& to_drain) {
    for (const ConsumerPtr& consumer : to_drain) {
        drain(consumer);
    }
}

QueueStats EmbeddedBroker::stats_of(const std::string& name, const Queue& queue) {
    QueueStats stats = queue.counters;
    stats.name = name;
    stats.durable = queue.options.durable;
    stats.messages_ready = queue.ready.size();
    stats.messages_unacknowledged = queue.unacked;
    stats.consumers = queue.consumers.size();
    stats.max_length_messages = queue.options.max_length_messages;
    return stats;
}

}  // namespace imgbus::broker
