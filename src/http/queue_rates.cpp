// SPDX-License-Identifier: MIT
#include <algorithm>

#include "management.hpp"

namespace imgbus::http {
namespace {

// Per-second change of a counter; a counter that went down was reset, which counts as zero.
double counter_rate(std::uint64_t before, std::uint64_t after, double seconds) {
    if (after < before) return 0;
    return static_cast<double>(after - before) / seconds;
}

// Per-second change of a gauge, negative while it falls.
double gauge_rate(std::size_t before, std::size_t after, double seconds) {
    return (static_cast<double>(after) - static_cast<double>(before)) / seconds;
}

}  // namespace

QueueRate& QueueRate::operator+=(const QueueRate& other) {
    publish += other.publish;
    deliver_get += other.deliver_get;
    ack += other.ack;
    redeliver += other.redeliver;
    messages += other.messages;
    messages_ready += other.messages_ready;
    messages_unacknowledged += other.messages_unacknowledged;
    return *this;
}

QueueRate QueueRates::between(const Sample& before, const Sample& after) {
    double seconds = std::chrono::duration<double>(after.at - before.at).count();
    if (seconds <= 0) return {};
    const auto& a = before.stats;
    const auto& b = after.stats;
    QueueRate rate;
    rate.publish = counter_rate(a.published_total, b.published_total, seconds);
    rate.deliver_get = counter_rate(a.delivered_total, b.delivered_total, seconds);
    rate.ack = counter_rate(a.acked_total, b.acked_total, seconds);
    rate.redeliver = counter_rate(a.redelivered_total, b.redelivered_total, seconds);
    rate.messages_ready = gauge_rate(a.messages_ready, b.messages_ready, seconds);
    rate.messages_unacknowledged =
        gauge_rate(a.messages_unacknowledged, b.messages_unacknowledged, seconds);
    rate.messages = rate.messages_ready + rate.messages_unacknowledged;
    return rate;
}

void QueueRates::record(const std::vector<broker::QueueStats>& queues, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    std::map<std::string, History> next;
    for (const auto& stats : queues) {
        History history{std::nullopt, Sample{at, stats}};
        if (auto found = queues_.find(stats.name); found != queues_.end()) {
            history.previous = std::move(found->second.latest);
        }
        next.emplace(stats.name, std::move(history));
    }
    // Queues that are gone are forgotten, so a deleted queue's history cannot grow the map.
    queues_ = std::move(next);
}

QueueRate QueueRates::rate(const std::string& queue) const {
    std::lock_guard lock(mutex_);
    auto found = queues_.find(queue);
    if (found == queues_.end() || !found->second.previous) return {};
    return between(*found->second.previous, found->second.latest);
}

QueueRate QueueRates::total() const {
    std::lock_guard lock(mutex_);
    QueueRate sum;
    for (const auto& [name, history] : queues_) {
        if (history.previous) sum += between(*history.previous, history.latest);
    }
    return sum;
}

void CounterRates::record(std::map<std::string, Counters> objects, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    std::map<std::string, History> next;
    for (auto& [name, counters] : objects) {
        History history{at, at, std::nullopt, std::move(counters)};
        if (auto found = objects_.find(name); found != objects_.end()) {
            history.previous_at = found->second.latest_at;
            history.previous = std::move(found->second.latest);
        }
        next.emplace(name, std::move(history));
    }
    objects_ = std::move(next);
}

double CounterRates::rate(const std::string& object, const std::string& counter) const {
    std::lock_guard lock(mutex_);
    auto found = objects_.find(object);
    if (found == objects_.end() || !found->second.previous) return 0;
    const History& history = found->second;
    double seconds = std::chrono::duration<double>(history.latest_at - history.previous_at).count();
    auto before = history.previous->find(counter);
    auto after = history.latest.find(counter);
    if (seconds <= 0 || before == history.previous->end() || after == history.latest.end()) {
        return 0;
    }
    return counter_rate(before->second, after->second, seconds);
}

}  // namespace imgbus::http
