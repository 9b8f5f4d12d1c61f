// SPDX-License-Identifier: MIT
#pragma once

// In-memory stand-ins for the Broker and the ObjectStore, for the worker unit tests only. They
// keep the interface contracts the worker relies on (prefetch, requeue on cancel, handlers called
// outside the lock) and add hooks to fail or hold a call.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::worker::testing {

// A latch that blocks callers of wait() until open() is called.
class Gate {
  public:
    void wait() {
        std::unique_lock lock{mutex_};
        ++waiting_;
        changed_.notify_all();
        changed_.wait(lock, [this] { return open_; });
        --waiting_;
    }
    void open() {
        std::lock_guard lock{mutex_};
        open_ = true;
        changed_.notify_all();
    }
    int waiting() const {
        std::lock_guard lock{mutex_};
        return waiting_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
    int waiting_ = 0;
};

class FakeBroker final : public broker::Broker {
  public:
    // Makes every publish to `queue` fail with queue_full.
    void fail_publishes_to(const std::string& queue) {
        std::lock_guard lock{mutex_};
        failing_queue_ = queue;
    }
    int failed_publishes() const { return failed_publishes_; }

    // Bodies of the ready messages of a queue, oldest first.
    std::vector<std::string> ready_bodies(const std::string& queue) {
        std::lock_guard lock{mutex_};
        std::vector<std::string> bodies;
        for (const auto& entry : queues_[queue].ready) {
            bodies.push_back(entry.message.body);
        }
        return bodies;
    }
    std::vector<std::pair<std::uint64_t, bool>> nacks() {
        std::lock_guard lock{mutex_};
        return nacks_;
    }
    std::vector<std::uint64_t> acks() {
        std::lock_guard lock{mutex_};
        return acks_;
    }

    Result<void> declare_queue(const std::string& queue, const broker::QueueOptions&) override {
        std::lock_guard lock{mutex_};
        queues_[queue];
        return {};
    }
    Result<void> delete_queue(const std::string& queue) override {
        std::lock_guard lock{mutex_};
        queues_.erase(queue);
        return {};
    }

    Result<void> publish(const std::string& queue, broker::Message message) override {
        std::unique_lock lock{mutex_};
        if (queue == failing_queue_) {
            ++failed_publishes_;
            return broker::make_error(broker::Errc::queue_full, "queue " + queue + " is full");
        }
        const auto found = queues_.find(queue);
        if (found == queues_.end()) {
            return broker::make_error(broker::Errc::queue_not_found, "no queue " + queue);
        }
        message.published_at = std::chrono::system_clock::now();
        found->second.ready.push_back({std::move(message), false});
        ++found->second.published;
        return dispatch(std::move(lock), queue);
    }

    Result<std::string> consume(const std::string& queue, std::uint32_t prefetch,
                                broker::DeliveryHandler handler) override {
        std::unique_lock lock{mutex_};
        if (!queues_.contains(queue)) {
            return broker::make_error(broker::Errc::queue_not_found, "no queue " + queue);
        }
        const std::string tag = "ctag-" + std::to_string(++next_consumer_);
        consumers_[tag] = {queue, prefetch, std::move(handler), 0};
        (void)dispatch(std::move(lock), queue);
        return tag;
    }

    Result<void> cancel(const std::string& consumer_tag) override {
        std::unique_lock lock{mutex_};
        const auto found = consumers_.find(consumer_tag);
        if (found == consumers_.end()) {
            return broker::make_error(broker::Errc::consumer_not_found, "no consumer");
        }
        const std::string queue = found->second.queue;
        consumers_.erase(found);
        // Unacked messages of the consumer go back to the head, newest first so order is kept.
        std::vector<std::uint64_t> returned;
        for (const auto& [tag, entry] : unacked_) {
            if (entry.consumer == consumer_tag) {
                returned.push_back(tag);
            }
        }
        for (auto it = returned.rbegin(); it != returned.rend(); ++it) {
            auto entry = std::move(unacked_.at(*it));
            unacked_.erase(*it);
            queues_[entry.queue].ready.push_front({std::move(entry.message), true});
        }
        return dispatch(std::move(lock), queue);
    }

    Result<void> ack(std::uint64_t delivery_tag) override {
        std::unique_lock lock{mutex_};
        acks_.push_back(delivery_tag);
        return settle(std::move(lock), delivery_tag, false);
    }
    Result<void> nack(std::uint64_t delivery_tag, bool requeue) override {
        std::unique_lock lock{mutex_};
        nacks_.emplace_back(delivery_tag, requeue);
        return settle(std::move(lock), delivery_tag, requeue);
    }
    Result<void> reject(std::uint64_t delivery_tag, bool requeue) override {
        return nack(delivery_tag, requeue);
    }

    Result<std::size_t> purge(const std::string& queue) override {
        std::lock_guard lock{mutex_};
        const std::size_t count = queues_[queue].ready.size();
        queues_[queue].ready.clear();
        return count;
    }

    Result<broker::QueueStats> queue_stats(const std::string& queue) override {
        std::lock_guard lock{mutex_};
        const auto found = queues_.find(queue);
        if (found == queues_.end()) {
            return broker::make_error(broker::Errc::queue_not_found, "no queue " + queue);
        }
        broker::QueueStats stats;
        stats.name = queue;
        stats.messages_ready = found->second.ready.size();
        stats.published_total = found->second.published;
        for (const auto& [tag, entry] : unacked_) {
            stats.messages_unacknowledged += entry.queue == queue ? 1 : 0;
        }
        for (const auto& [tag, consumer] : consumers_) {
            stats.consumers += consumer.queue == queue ? 1 : 0;
        }
        return stats;
    }

    std::vector<broker::QueueStats> list_queues() override {
        std::vector<std::string> names;
        {
            std::lock_guard lock{mutex_};
            for (const auto& [name, queue] : queues_) {
                names.push_back(name);
            }
        }
        std::vector<broker::QueueStats> all;
        for (const auto& name : names) {
            all.push_back(*queue_stats(name));
        }
        return all;
    }

  private:
    struct Ready {
        broker::Message message;
        bool redelivered = false;
    };
    struct Queue {
        std::deque<Ready> ready;
        std::uint64_t published = 0;
    };
    struct Consumer {
        std::string queue;
        std::uint32_t prefetch = 0;
        broker::DeliveryHandler handler;
        std::size_t unacked = 0;
    };
    struct Unacked {
        std::string queue;
        std::string consumer;
        broker::Message message;
    };

    Result<void> settle(std::unique_lock<std::mutex> lock, std::uint64_t delivery_tag,
                        bool requeue) {
        const auto found = unacked_.find(delivery_tag);
        if (found == unacked_.end()) {
            return broker::make_error(broker::Errc::unknown_delivery_tag,
                                      "unknown delivery tag " + std::to_string(delivery_tag));
        }
        auto entry = std::move(found->second);
        unacked_.erase(found);
        if (auto consumer = consumers_.find(entry.consumer); consumer != consumers_.end()) {
            --consumer->second.unacked;
        }
        if (requeue) {
            queues_[entry.queue].ready.push_front({std::move(entry.message), true});
        }
        return dispatch(std::move(lock), entry.queue);
    }

    // Hands ready messages to consumers with room, then calls their handlers after unlocking.
    Result<void> dispatch(std::unique_lock<std::mutex> lock, const std::string& queue) {
        std::vector<std::pair<broker::DeliveryHandler, broker::Delivery>> calls;
        auto& ready = queues_[queue].ready;
        bool delivered = true;
        while (!ready.empty() && delivered) {
            delivered = false;
            for (auto& [tag, consumer] : consumers_) {
                const bool room = consumer.prefetch == 0 || consumer.unacked < consumer.prefetch;
                if (consumer.queue != queue || !room || ready.empty()) {
                    continue;
                }
                broker::Delivery delivery;
                delivery.delivery_tag = ++next_delivery_;
                delivery.queue = queue;
                delivery.consumer_tag = tag;
                delivery.redelivered = ready.front().redelivered;
                delivery.message = ready.front().message;
                unacked_[delivery.delivery_tag] = {queue, tag, ready.front().message};
                ready.pop_front();
                ++consumer.unacked;
                calls.emplace_back(consumer.handler, std::move(delivery));
                delivered = true;
            }
        }
        lock.unlock();
        for (auto& [handler, delivery] : calls) {
            handler(std::move(delivery));
        }
        return {};
    }

    std::mutex mutex_;
    std::map<std::string, Queue> queues_;
    std::map<std::string, Consumer> consumers_;
    std::map<std::uint64_t, Unacked> unacked_;
    std::vector<std::uint64_t> acks_;
    std::vector<std::pair<std::uint64_t, bool>> nacks_;
    std::uint64_t next_delivery_ = 0;
    int next_consumer_ = 0;
    std::string failing_queue_;
    std::atomic<int> failed_publishes_{0};
};

class FakeStore final : public store::ObjectStore {
  public:
    bool fail_puts = false;
    std::function<void()> before_get;  // called outside the lock, e.g. to hold a worker

    Result<void> create_bucket(const std::string& bucket) override { return ensure_bucket(bucket); }
    Result<void> ensure_bucket(const std::string& bucket) override {
        std::lock_guard lock{mutex_};
        buckets_.insert(bucket);
        return {};
    }
    Result<void> delete_bucket(const std::string& bucket) override {
        std::lock_guard lock{mutex_};
        buckets_.erase(bucket);
        return {};
    }
    Result<std::vector<store::BucketInfo>> list_buckets() override {
        std::lock_guard lock{mutex_};
        std::vector<store::BucketInfo> all;
        for (const auto& name : buckets_) {
            all.push_back({name, {}});
        }
        return all;
    }
    bool bucket_exists(const std::string& bucket) override {
        std::lock_guard lock{mutex_};
        return buckets_.contains(bucket);
    }

    Result<store::ObjectInfo> put_object(const std::string& bucket, const std::string& key,
                                         std::span<const std::uint8_t> data,
                                         const store::PutOptions& options) override {
        std::lock_guard lock{mutex_};
        if (fail_puts) {
            return store::make_error(store::Errc::io_error,
                                     "writing " + bucket + "/" + key + " failed: disk full");
        }
        if (!buckets_.contains(bucket)) {
            return store::make_error(store::Errc::no_such_bucket, "no bucket " + bucket);
        }
        store::Object object;
        object.info = {bucket, key, data.size(), "", options.content_type, {}, options.metadata};
        object.data.assign(data.begin(), data.end());
        objects_[{bucket, key}] = object;
        return object.info;
    }

    Result<store::Object> get_object(const std::string& bucket, const std::string& key) override {
        if (before_get) {
            before_get();
        }
        std::lock_guard lock{mutex_};
        const auto found = objects_.find({bucket, key});
        if (found == objects_.end()) {
            return store::make_error(store::Errc::no_such_key,
                                     "object " + bucket + "/" + key + " not found");
        }
        return found->second;
    }
    Result<store::ObjectInfo> head_object(const std::string& bucket,
                                          const std::string& key) override {
        auto object = get_object(bucket, key);
        if (!object) {
            return object.error();
        }
        return object->info;
    }
    Result<void> delete_object(const std::string& bucket, const std::string& key) override {
        std::lock_guard lock{mutex_};
        objects_.erase({bucket, key});
        return {};
    }
    Result<store::ListResult> list_objects(const std::string& bucket,
                                           const store::ListOptions& options) override {
        std::lock_guard lock{mutex_};
        store::ListResult result;
        for (const auto& [name, object] : objects_) {
            if (name.first == bucket && object.info.key.starts_with(options.prefix)) {
                result.objects.push_back(object.info);
            }
        }
        return result;
    }

  private:
    std::mutex mutex_;
    std::set<std::string> buckets_;
    std::map<std::pair<std::string, std::string>, store::Object> objects_;
};

}  // namespace imgbus::worker::testing
