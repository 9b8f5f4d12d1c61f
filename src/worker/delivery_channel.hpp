// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "imgbus/broker/broker.hpp"

namespace imgbus::worker::detail {

// The bounded buffer between one broker consumer and its worker thread. The broker pushes from
// its delivery threads and the worker pops. Its capacity is the consumer's prefetch, so a broker
// that keeps to prefetch never finds it full. Closing it makes pop() return nothing even while
// deliveries remain: those stay unacked and go back to the queue when the consumer is cancelled.
class DeliveryChannel {
  public:
    enum class PushResult { accepted, closed, full };

    explicit DeliveryChannel(std::size_t capacity) : capacity_(capacity) {}

    // Adds a delivery, unless the channel is closed or full (overflow policy: reject the new one).
    PushResult push(broker::Delivery delivery);
    // Waits for the next delivery; returns nothing once the channel is closed.
    std::optional<broker::Delivery> pop();
    // The same, but when no delivery arrives within `idle`, calls on_idle() once, without the
    // lock held, and then goes on waiting.
    std::optional<broker::Delivery> pop(std::chrono::milliseconds idle,
                                        const std::function<void()>& on_idle);
    void close();
    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<broker::Delivery> deliveries_;
    std::size_t capacity_;
    bool closed_ = false;
};

}  // namespace imgbus::worker::detail
