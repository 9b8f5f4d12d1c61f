// SPDX-License-Identifier: MIT
#include "delivery_channel.hpp"

#include <utility>

namespace imgbus::worker::detail {

DeliveryChannel::PushResult DeliveryChannel::push(broker::Delivery delivery) {
    {
        std::lock_guard lock{mutex_};
        if (closed_) {
            return PushResult::closed;
        }
        if (deliveries_.size() >= capacity_) {
            return PushResult::full;
        }
        deliveries_.push_back(std::move(delivery));
    }
    ready_.notify_one();
    return PushResult::accepted;
}

std::optional<broker::Delivery> DeliveryChannel::pop() {
    std::unique_lock lock{mutex_};
    ready_.wait(lock, [this] { return closed_ || !deliveries_.empty(); });
    if (closed_) {
        return std::nullopt;
    }
    broker::Delivery delivery = std::move(deliveries_.front());
    deliveries_.pop_front();
    return delivery;
}

std::optional<broker::Delivery> DeliveryChannel::pop(std::chrono::milliseconds idle,
                                                     const std::function<void()>& on_idle) {
    {
        std::unique_lock lock{mutex_};
        if (!ready_.wait_for(lock, idle, [this] { return closed_ || !deliveries_.empty(); })) {
            lock.unlock();
            on_idle();
        }
    }
    return pop();
}

void DeliveryChannel::close() {
    {
        std::lock_guard lock{mutex_};
        closed_ = true;
    }
    ready_.notify_all();
}

std::size_t DeliveryChannel::size() const {
    std::lock_guard lock{mutex_};
    return deliveries_.size();
}

}  // namespace imgbus::worker::detail
