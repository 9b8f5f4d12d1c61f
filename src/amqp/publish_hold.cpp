// SPDX-License-Identifier: MIT
// The hold on publishes to the job queue, and how a connection parks a held publish: the
// message waits in the connection, the client gets connection.blocked and the connection reads
// nothing more until the hold is released, when the message is published as if it had just
// arrived. This is what RabbitMQ does to a publishing connection during a resource alarm, so
// clients that handle an alarm handle a pause the same way.
#include "publish_hold.hpp"

#include <boost/asio/post.hpp>
#include <type_traits>
#include <variant>

#include "connection.hpp"
#include "imgbus/log.hpp"

namespace imgbus::amqp {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
    static const auto logger = module_logger("amqp");
    return logger;
}

}  // namespace

void PublishHold::hold(std::string queue, std::string reason) {
    std::lock_guard lock(mutex_);
    queue_ = std::move(queue);
    reason_ = std::move(reason);
    active_.store(true, std::memory_order_relaxed);
}

void PublishHold::release() { active_.store(false, std::memory_order_relaxed); }

std::string PublishHold::reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
}

bool PublishHold::holds(broker::Broker& broker, const std::string& exchange,
                        const std::string& routing_key) const {
    if (!active()) {
        return false;
    }
    std::string queue;
    {
        std::lock_guard lock(mutex_);
        queue = queue_;
    }
    if (exchange.empty()) {
        return routing_key == queue;
    }
    for (const auto& binding : broker.list_bindings()) {
        if (binding.exchange == exchange && binding.queue == queue) {
            return true;
        }
    }
    return false;
}

bool PublishHold::is_retry(const BasicProperties& properties) {
    if (!properties.headers) {
        return false;
    }
    const auto* attempt = properties.headers->find("imgbus-attempt");
    if (attempt == nullptr) {
        return false;
    }
    return std::visit(
        [](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                return value >= 2;
            } else {
                return false;
            }
        },
        attempt->value);
}

void Connection::park_publish(Channel& channel, PendingPublish pending) {
    parked_ = ParkedPublish{channel.number, channel.generation, std::move(pending)};
    stats_.set_state("blocked");
    const auto reason = hold_.reason();
    if (client_wants_blocked_) {
        send_method(0, ConnectionBlocked{.reason = reason});
    }
    log()->info("connection {} ({}): publish to '{}' held, connection blocked: {}", id_, peer_,
                parked_->pending.method.routing_key, reason);
}

void Connection::release_hold() {
    boost::asio::post(strand_, [self = shared_from_this()] { self->publish_parked(); });
}

void Connection::publish_parked() {
    if (!parked_ || state_ != State::open) {
        parked_.reset();  // closing: the client never got a confirm, as if it was never read
        return;
    }
    const auto& method = parked_->pending.method;
    if (hold_.holds(broker_, method.exchange, method.routing_key)) {
        return;  // held again before this ran
    }
    ParkedPublish parked = std::move(*parked_);
    parked_.reset();
    if (client_wants_blocked_ && !blocked_) {
        send_method(0, ConnectionUnblocked{});
    }
    stats_.set_state(blocked_ ? "blocked" : "running");
    log()->info("connection {} ({}): hold released, publishing the held message", id_, peer_);
    if (Channel* channel = find_channel(parked.channel, parked.generation)) {
        if (auto published = publish_now(*channel, std::move(parked.pending)); !published) {
            fail_channel(*channel, published.error(),
                         {BasicPublish::class_id, BasicPublish::method_id});
        }
    }
    wake(read_signal_);
}

}  // namespace imgbus::amqp
