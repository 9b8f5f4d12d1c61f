// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "imgbus/broker/broker.hpp"

namespace imgbus::amqp {

// The listener-wide hold on publishes to one queue (the job queue while an operator pauses
// intake). `active` is read with a relaxed load on every publish, so an idle hold costs nothing;
// the queue and reason are read under the mutex only while it is active.
class PublishHold {
  public:
    void hold(std::string queue, std::string reason);
    void release();
    bool active() const { return active_.load(std::memory_order_relaxed); }
    std::string reason() const;

    // True when the hold is active and a publish to (exchange, routing key) reaches the held
    // queue: through the default exchange by its name, or through an exchange with a binding to
    // it (whatever the binding key, so a topic or headers binding is held too).
    bool holds(broker::Broker& broker, const std::string& exchange,
               const std::string& routing_key) const;

  private:
    std::atomic<bool> active_{false};
    mutable std::mutex mutex_;
    std::string queue_;   // guarded by mutex_
    std::string reason_;  // guarded by mutex_
};

}  // namespace imgbus::amqp
