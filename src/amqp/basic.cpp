// SPDX-License-Identifier: MIT
// The basic class of the connection: qos, consume, cancel, publish with its content frames,
// get, ack/nack/reject, recover, and the broker events (deliveries, confirms, cancels, blocked).
#include <fmt/format.h>

#include "connection.hpp"
#include "imgbus/amqp/frame.hpp"
#include "imgbus/log.hpp"

namespace imgbus::amqp {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
    static const auto logger = module_logger("amqp");
    return logger;
}

Result<void> settled(Result<void> result) {
    if (!result) {
        return to_amqp_error(result.error());
    }
    return {};
}

}  // namespace

Result<void> Connection::handle_basic_method(Channel& channel, Method& method) {
    if (auto* qos = std::get_if<BasicQos>(&method)) {
        if (qos->prefetch_size != 0) {
            return make_error(Errc::not_implemented,
                              fmt::format("prefetch_size={} is not supported; use 0 and "
                                          "limit by prefetch_count",
                                          qos->prefetch_size));
        }
        if (auto set = broker_.basic_qos(channel.session, qos->prefetch_count, qos->global); !set) {
            return to_amqp_error(set.error());
        }
        channel.qos_prefetch = qos->prefetch_count;
        if (qos->global && !channel.consumers.empty()) {
            note_window(channel, qos->prefetch_count);
        }
        send_method(channel.number, BasicQosOk{});
        return {};
    }
    if (auto* publish = std::get_if<BasicPublish>(&method)) {
        if (publish->immediate) {
            return make_error(Errc::not_implemented,
                              "immediate=true is not supported (RabbitMQ dropped it in 3.0); "
                              "publish with mandatory=true instead");
        }
        channel.pending = PendingPublish{.method = std::move(*publish)};
        ++publishes_read_;
        return {};
    }
    if (auto* consume = std::get_if<BasicConsume>(&method)) {
        return handle_consume(channel, *consume);
    }
    if (auto* cancel = std::get_if<BasicCancel>(&method)) {
        return handle_cancel(channel, *cancel);
    }
    if (auto* get = std::get_if<BasicGet>(&method)) {
        return handle_get(channel, *get);
    }
    if (auto* ack = std::get_if<BasicAck>(&method)) {
        bump(channel.stats->ack);
        if (!ack->multiple) {
            ++acks_read_;
        }
        return settled(broker_.basic_ack(channel.session, ack->delivery_tag, ack->multiple));
    }
    if (auto* nack = std::get_if<BasicNack>(&method)) {
        return settled(
            broker_.basic_nack(channel.session, nack->delivery_tag, nack->multiple, nack->requeue));
    }
    if (auto* reject = std::get_if<BasicReject>(&method)) {
        return settled(
            broker_.basic_reject(channel.session, reject->delivery_tag, reject->requeue));
    }
    if (std::holds_alternative<BasicRecover>(method) ||
        std::holds_alternative<BasicRecoverAsync>(method)) {
        if (auto recovered = broker_.basic_recover(channel.session); !recovered) {
            return to_amqp_error(recovered.error());
        }
        if (std::holds_alternative<BasicRecover>(method)) {
            send_method(channel.number, BasicRecoverOk{});
        }
        return {};
    }
    return make_error(Errc::command_invalid,
                      fmt::format("{} is sent by servers only", method_name(method)));
}

Result<void> Connection::handle_consume(Channel& channel, BasicConsume& consume) {
    if (!consume.consumer_tag.empty() && channel.consumers.contains(consume.consumer_tag)) {
        return make_error(Errc::not_allowed,
                          fmt::format("attempt to reuse consumer tag '{}' on channel {}",
                                      consume.consumer_tag, channel.number));
    }
    std::weak_ptr<Connection> weak = shared_from_this();
    const auto number = channel.number;
    const auto generation = channel.generation;
    broker::ConsumeOptions options{.prefetch = 0,
                                   .no_ack = consume.no_ack,
                                   .exclusive = consume.exclusive,
                                   .consumer_tag = consume.consumer_tag,
                                   .session = channel.session,
                                   .share_message = true};
    options.on_cancelled = [weak, number, generation](const std::string& tag) {
        if (auto self = weak.lock()) {
            self->push_event(CancelEvent{number, generation, tag});
        }
    };
    auto tag = broker_.basic_consume(
        consume.queue, options, [weak, number, generation](broker::Delivery delivery) {
            if (auto self = weak.lock()) {
                self->push_event(Event(std::in_place_type<DeliveryEvent>, number, generation,
                                       std::move(delivery)));
            }
        });
    if (!tag) {
        return to_amqp_error(tag.error());
    }
    if (channel.consumers.empty()) {
        channel.consumer_window = 0;
    }
    note_window(channel, channel.qos_prefetch);
    channel.consumers.insert(*tag);
    if (consume.no_ack) {
        channel.no_ack_consumers.insert(*tag);
    }
    if (!consume.no_wait) {
        send_method(channel.number, BasicConsumeOk{.consumer_tag = *tag});
    }
    return {};
}

Result<void> Connection::handle_cancel(Channel& channel, const BasicCancel& cancel) {
    channel.no_ack_consumers.erase(cancel.consumer_tag);
    if (channel.consumers.erase(cancel.consumer_tag) > 0) {
        // An unknown tag is not an error in AMQP; the broker may have cancelled it already.
        (void)broker_.cancel(cancel.consumer_tag);
    }
    if (!cancel.no_wait) {
        send_method(channel.number, BasicCancelOk{.consumer_tag = cancel.consumer_tag});
    }
    return {};
}

Result<void> Connection::handle_get(Channel& channel, const BasicGet& get) {
    auto got = broker_.basic_get(channel.session, get.queue, get.no_ack);
    if (!got) {
        return to_amqp_error(got.error());
    }
    if (!got->has_value()) {
        bump(channel.stats->get_empty);
        send_method(channel.number, BasicGetEmpty{});
        return {};
    }
    const auto& delivery = (*got)->delivery;
    bump(get.no_ack ? channel.stats->get_no_ack : channel.stats->get);
    if (delivery.redelivered) {
        bump(channel.stats->redeliver);
    }
    send_method(channel.number,
                BasicGetOk{.delivery_tag = delivery.delivery_tag,
                           .redelivered = delivery.redelivered,
                           .exchange = delivery.exchange,
                           .routing_key = delivery.routing_key,
                           .message_count = static_cast<std::uint32_t>((*got)->message_count)});
    send_content(channel.number, delivery.message);
    return {};
}

Result<void> Connection::handle_content(Channel& channel, FrameType type,
                                        std::span<const std::uint8_t> payload) {
    if (!channel.pending) {
        close_connection(
            make_error(Errc::unexpected_frame, fmt::format("content frame on channel {} without a "
                                                           "basic.publish before it",
                                                           channel.number)),
            {});
        return {};
    }
    PendingPublish& pending = *channel.pending;
    if (type == FrameType::header) {
        if (pending.header) {
            return make_error(Errc::unexpected_frame,
                              fmt::format("second content header on channel {}", channel.number));
        }
        auto header = decode_content_header(payload);
        if (!header) {
            return header.error();
        }
        if (header->body_size > options_.max_message_bytes) {
            const auto size = header->body_size;
            channel.pending.reset();
            close_channel(channel,
                          make_error(Errc::precondition_failed,
                                     fmt::format("message size {} is larger than the maximum of "
                                                 "{} bytes",
                                                 size, options_.max_message_bytes)),
                          {BasicPublish::class_id, BasicPublish::method_id});
            return {};
        }
        pending.body.reserve(header->body_size);
        pending.header = std::move(*header);
    } else {
        if (!pending.header) {
            return make_error(
                Errc::unexpected_frame,
                fmt::format("body frame on channel {} before its content header", channel.number));
        }
        if (pending.body.size() + payload.size() > pending.header->body_size) {
            return make_error(Errc::frame_error,
                              fmt::format("body frames on channel {} carry more than the {} "
                                          "bytes the content header announced",
                                          channel.number, pending.header->body_size));
        }
        pending.body.append(reinterpret_cast<const char*>(payload.data()), payload.size());
    }
    if (pending.body.size() == pending.header->body_size) {
        return finish_publish(channel);
    }
    return {};
}

Result<void> Connection::finish_publish(Channel& channel) {
    PendingPublish pending = std::move(*channel.pending);
    channel.pending.reset();
    if (hold_.active() && !PublishHold::is_retry(pending.header->properties) &&
        hold_.holds(broker_, pending.method.exchange, pending.method.routing_key)) {
        park_publish(channel, std::move(pending));
        return {};
    }
    return publish_now(channel, std::move(pending));
}

Result<void> Connection::publish_now(Channel& channel, PendingPublish pending) {
    broker::PublishOptions options{.mandatory = pending.method.mandatory};
    if (channel.confirm_mode) {
        std::weak_ptr<Connection> weak = shared_from_this();
        const auto seq = channel.next_publish_seq++;
        ++channel.unconfirmed;
        channel.stats->unconfirmed.store(channel.unconfirmed, std::memory_order_relaxed);
        options.on_confirm = [weak, number = channel.number, generation = channel.generation,
                              seq](bool ack) {
            if (auto self = weak.lock()) {
                self->push_event(ConfirmEvent{number, generation, seq, ack});
            }
        };
    }
    // Only a mandatory publish may come back in a basic.return and needs a copy of its
    // content; the others move their body and properties into the broker.
    const bool mandatory = pending.method.mandatory;
    std::optional<PendingPublish> kept;
    if (mandatory) {
        kept = pending;
    }
    auto outcome = broker_.basic_publish(
        pending.method.exchange, pending.method.routing_key,
        to_message(std::move(pending.header->properties), std::move(pending.body)), options);
    if (!outcome) {
        return to_amqp_error(outcome.error());
    }
    bump(channel.stats->publish);
    if (outcome->unroutable()) {
        bump(mandatory ? channel.stats->return_unroutable : channel.stats->drop_unroutable);
    }
    if (outcome->unroutable() && mandatory) {
        send_method(channel.number, BasicReturn{.reply_code = 312,
                                                .reply_text = "NO_ROUTE",
                                                .exchange = kept->method.exchange,
                                                .routing_key = kept->method.routing_key});
        append_content(write_buffer_, channel.number, kept->header->properties, kept->body,
                       frame_max_);
    }
    return {};
}

void Connection::send_content(std::uint16_t channel, const broker::Message& message) {
    append_content(write_buffer_, channel, to_properties(message), message.body, frame_max_);
}

void Connection::send_delivery(Channel& channel, OutgoingDelivery&& delivery) {
    const bool no_ack = channel.no_ack_consumers.contains(delivery.consumer_tag);
    bump(no_ack ? channel.stats->deliver_no_ack : channel.stats->deliver);
    if (delivery.redelivered) {
        bump(channel.stats->redeliver);
    }
    send_method(channel.number, BasicDeliver{.consumer_tag = std::move(delivery.consumer_tag),
                                             .delivery_tag = delivery.delivery_tag,
                                             .redelivered = delivery.redelivered,
                                             .exchange = std::move(delivery.exchange),
                                             .routing_key = std::move(delivery.routing_key)});
    send_content(channel.number, *delivery.message);
}

void Connection::handle_event(Event& event) {
    if (auto* blocked = std::get_if<BlockedEvent>(&event)) {
        blocked_ = blocked->blocked;
        stats_.set_state(blocked_ ? "blocked" : "running");
        if (client_wants_blocked_) {
            if (blocked_) {
                send_method(0, ConnectionBlocked{.reason = "low on memory"});
            } else {
                send_method(0, ConnectionUnblocked{});
            }
        }
        log()->info("connection {} ({}): {}", id_, peer_,
                    blocked_ ? "blocked: broker memory above its limit" : "unblocked");
        if (!blocked_) {
            wake(read_signal_);
        }
        return;
    }
    if (auto* confirm = std::get_if<ConfirmEvent>(&event)) {
        Channel* channel = find_channel(confirm->channel, confirm->generation);
        if (channel == nullptr) {
            return;
        }
        if (confirm->ack) {
            bump(channel->stats->confirm);
            send_method(channel->number, BasicAck{.delivery_tag = confirm->seq});
        } else {
            send_method(channel->number, BasicNack{.delivery_tag = confirm->seq, .requeue = false});
        }
        channel->stats->unconfirmed.store(channel->unconfirmed - 1, std::memory_order_relaxed);
        if (channel->unconfirmed-- == options_.max_unconfirmed_per_channel) {
            wake(read_signal_);
        }
        return;
    }
    if (auto* cancelled = std::get_if<CancelEvent>(&event)) {
        Channel* channel = find_channel(cancelled->channel, cancelled->generation);
        if (channel == nullptr || channel->consumers.erase(cancelled->consumer_tag) == 0) {
            return;
        }
        if (client_wants_cancel_notify_) {
            send_method(channel->number,
                        BasicCancel{.consumer_tag = cancelled->consumer_tag, .no_wait = true});
        }
        return;
    }
    auto& delivery = std::get<DeliveryEvent>(event);
    Channel* channel = find_channel(delivery.channel, delivery.generation);
    // A delivery for a consumer cancelled meanwhile was requeued by the broker: drop it.
    if (channel == nullptr || !channel->consumers.contains(delivery.delivery.consumer_tag)) {
        return;
    }
    if (!channel->flow_active) {
        channel->held.push_back(std::move(delivery.delivery));
        return;
    }
    send_delivery(*channel, std::move(delivery.delivery));
}

}  // namespace imgbus::amqp
