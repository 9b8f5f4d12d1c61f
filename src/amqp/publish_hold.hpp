// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "imgbus/amqp/content.hpp"
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

    // True for a job a worker publishes again after a failed try: its header `imgbus-attempt`
    // is an integer of 2 or more. Such a publish is not new intake, so it is never held: holding
    // it would block the worker's whole connection (its events and acks) until the resume.
    static bool is_retry(const BasicProperties& properties);

  private:
    std::atomic<bool> active_{false};
    mutable std::mutex mutex_;
    std::string queue_;   // guarded by mutex_
    std::string reason_;  // guarded by mutex_
};

}  // namespace imgbus::amqp
