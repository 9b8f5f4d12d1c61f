// SPDX-License-Identifier: MIT
// The channel-level classes of the connection: channel, exchange, queue, basic and confirm,
// each mapped onto one broker session per channel.
#include <fmt/format.h>

#include "connection.hpp"
#include "imgbus/amqp/frame.hpp"
#include "imgbus/log.hpp"

namespace imgbus::amqp {

namespace {

constexpr std::size_t kUnlimitedQueueLength = 10'000'000;

const std::shared_ptr<spdlog::logger>& log() {
    static const auto logger = module_logger("amqp");
    return logger;
}

Error wrap(const Error& broker_error) { return to_amqp_error(broker_error); }

broker::QueueOptions queue_options(const QueueDeclare& declare, const std::string& owner) {
    broker::QueueOptions options;
    // RabbitMQ queues have no length limit unless x-max-length sets one, so AMQP declares get
    // the embedded broker's largest accepted limit. The broker's memory limit, signalled with
    // connection.blocked, bounds memory instead.
    options.max_length_messages = kUnlimitedQueueLength;
    options.durable = declare.durable;
    options.exclusive = declare.exclusive;
    options.auto_delete = declare.auto_delete;
    options.passive = declare.passive;
    options.owner = owner;
    options.arguments = declare.arguments;
    return options;
}

}  // namespace

Connection::Channel* Connection::find_channel(std::uint16_t number, std::uint64_t generation) {
    auto found = channels_.find(number);
    if (found == channels_.end() || found->second.generation != generation ||
        found->second.closing) {
        return nullptr;
    }
    return &found->second;
}

Result<void> Connection::handle_channel_frame(std::uint16_t number, FrameType type,
                                              std::span<const std::uint8_t> payload) {
    auto found = channels_.find(number);
    if (found == channels_.end()) {
        if (type != FrameType::method) {
            return make_error(
                Errc::channel_error,
                fmt::format("content frame on channel {}, which is not open", number));
        }
        MethodId id;
        auto method = decode_method(payload, &id);
        if (!method) {
            close_connection(method.error(), id);
            return {};
        }
        if (!std::holds_alternative<ChannelOpen>(*method)) {
            close_connection(
                make_error(Errc::channel_error, fmt::format("{} on channel {}, which is not open",
                                                            method_name(*method), number)),
                id);
            return {};
        }
        if (auto opened = open_channel(number); !opened) {
            close_connection(opened.error(), id);
        }
        return {};
    }
    Channel& channel = found->second;
    if (type != FrameType::method) {
        if (channel.closing) {
            return {};
        }
        if (auto handled = handle_content(channel, type, payload); !handled) {
            fail_channel(channel, handled.error(),
                         {BasicPublish::class_id, BasicPublish::method_id});
        }
        return {};
    }
    MethodId id;
    auto method = decode_method(payload, &id);
    if (!method) {
        close_connection(method.error(), id);
        return {};
    }
    if (channel.pending) {
        close_connection(make_error(Errc::unexpected_frame,
                                    fmt::format("{} on channel {} while the content of a "
                                                "basic.publish was expected",
                                                method_name(*method), number)),
                         id);
        return {};
    }
    if (channel.closing) {
        // Until close-ok, only close and close-ok are meaningful on a closing channel.
        if (std::holds_alternative<ChannelCloseOk>(*method)) {
            channels_.erase(found);
        } else if (std::holds_alternative<ChannelClose>(*method)) {
            send_method(number, ChannelCloseOk{});
        }
        return {};
    }
    if (auto handled = handle_channel_method(channel, *method); !handled) {
        fail_channel(channel, handled.error(), id);
    }
    return {};
}

// Closes the channel for a channel error (below 500) and the connection for the others.
void Connection::fail_channel(Channel& channel, const Error& error, MethodId failing) {
    const auto code = static_cast<Errc>(error.code.value());
    if (error.code.category() != amqp_category() || is_connection_error(code)) {
        close_connection(error, failing);
    } else {
        close_channel(channel, error, failing);
    }
}

Result<void> Connection::open_channel(std::uint16_t number) {
    if (number > channel_max_) {
        return make_error(
            Errc::not_allowed,
            fmt::format("channel {} exceeds the negotiated channel_max {}", number, channel_max_));
    }
    auto session = broker_.open_session(owner_);
    if (!session) {
        return wrap(session.error());
    }
    Channel& channel = channels_[number];
    channel.number = number;
    channel.session = *session;
    channel.generation = next_generation_++;
    channel.stats = stats_.open_channel(number, channel.session);
    send_method(number, ChannelOpenOk{});
    return {};
}

// Sends channel.close and releases the channel's broker session at once, so its unacked
// messages are requeued even if the client never sends close-ok.
void Connection::close_channel(Channel& channel, const Error& error, MethodId failing) {
    const auto code = static_cast<Errc>(error.code.value());
    log()->info("connection {} ({}): closing channel {} with {} {}: {}", id_, peer_, channel.number,
                static_cast<int>(code), reply_name(code), error.message);
    send_method(channel.number,
                ChannelClose{.reply_code = static_cast<std::uint16_t>(code),
                             .reply_text = fmt::format("{} - {}", reply_name(code), error.message),
                             .failing_class_id = failing.class_id,
                             .failing_method_id = failing.method_id});
    release_channel(channel);
    channel.closing = true;
}

void Connection::release_channel(Channel& channel) {
    for (const auto& tag : channel.consumers) {
        (void)broker_.cancel(tag);
    }
    channel.consumers.clear();
    channel.no_ack_consumers.clear();
    channel.held.clear();
    channel.pending.reset();
    if (channel.session != 0) {
        (void)broker_.close_session(channel.session);
        channel.session = 0;
        stats_.close_channel(channel.number);
    }
}

Result<void> Connection::handle_channel_method(Channel& channel, Method& method) {
    const auto class_id = method_id_of(method).class_id;
    if (auto* flow = std::get_if<ChannelFlow>(&method)) {
        channel.flow_active = flow->active;
        send_method(channel.number, ChannelFlowOk{.active = flow->active});
        while (channel.flow_active && !channel.held.empty()) {
            send_delivery(channel, std::move(channel.held.front()));
            channel.held.pop_front();
        }
        return {};
    }
    if (std::holds_alternative<ChannelClose>(method)) {
        release_channel(channel);
        send_method(channel.number, ChannelCloseOk{});
        channels_.erase(channel.number);
        return {};
    }
    if (std::holds_alternative<ChannelOpen>(method)) {
        return make_error(Errc::channel_error,
                          fmt::format("channel {} is already open", channel.number));
    }
    if (std::holds_alternative<ChannelFlowOk>(method)) {
        return {};
    }
    if (auto* select = std::get_if<ConfirmSelect>(&method)) {
        channel.confirm_mode = true;
        channel.stats->confirm_mode.store(true, std::memory_order_relaxed);
        if (!select->no_wait) {
            send_method(channel.number, ConfirmSelectOk{});
        }
        return {};
    }
    switch (class_id) {
        case ExchangeDeclare::class_id:
            return handle_exchange_method(channel, method);
        case QueueDeclare::class_id:
            return handle_queue_method(channel, method);
        case BasicQos::class_id:
            return handle_basic_method(channel, method);
        default:
            break;
    }
    return make_error(
        Errc::command_invalid,
        fmt::format("{} is not a method a client sends on a channel", method_name(method)));
}

Result<void> Connection::handle_exchange_method(Channel& channel, Method& method) {
    if (auto* declare = std::get_if<ExchangeDeclare>(&method)) {
        auto type = broker::parse_exchange_type(declare->type);
        if (!type) {
            return make_error(Errc::command_invalid, type.error().message);
        }
        broker::ExchangeOptions options{.type = *type,
                                        .durable = declare->durable,
                                        .auto_delete = declare->auto_delete,
                                        .internal = declare->internal,
                                        .passive = declare->passive,
                                        .arguments = declare->arguments};
        if (auto declared = broker_.exchange_declare(declare->exchange, options); !declared) {
            return wrap(declared.error());
        }
        if (!declare->no_wait) {
            send_method(channel.number, ExchangeDeclareOk{});
        }
        return {};
    }
    if (auto* remove = std::get_if<ExchangeDelete>(&method)) {
        if (auto deleted = broker_.exchange_delete(remove->exchange, remove->if_unused); !deleted) {
            return wrap(deleted.error());
        }
        if (!remove->no_wait) {
            send_method(channel.number, ExchangeDeleteOk{});
        }
        return {};
    }
    return make_error(Errc::command_invalid,
                      fmt::format("{} is sent by servers only", method_name(method)));
}

Result<void> Connection::handle_queue_method(Channel& channel, Method& method) {
    if (auto* declare = std::get_if<QueueDeclare>(&method)) {
        auto declared = broker_.queue_declare(declare->queue, queue_options(*declare, owner_));
        if (!declared) {
            return wrap(declared.error());
        }
        if (!declare->no_wait) {
            send_method(
                channel.number,
                QueueDeclareOk{
                    .queue = declared->queue,
                    .message_count = static_cast<std::uint32_t>(declared->message_count),
                    .consumer_count = static_cast<std::uint32_t>(declared->consumer_count)});
        }
        return {};
    }
    if (auto* bind = std::get_if<QueueBind>(&method)) {
        auto bound =
            broker_.queue_bind(bind->queue, bind->exchange, bind->routing_key, bind->arguments);
        if (!bound) {
            return wrap(bound.error());
        }
        if (!bind->no_wait) {
            send_method(channel.number, QueueBindOk{});
        }
        return {};
    }
    if (auto* unbind = std::get_if<QueueUnbind>(&method)) {
        auto unbound = broker_.queue_unbind(unbind->queue, unbind->exchange, unbind->routing_key,
                                            unbind->arguments);
        if (!unbound) {
            return wrap(unbound.error());
        }
        send_method(channel.number, QueueUnbindOk{});
        return {};
    }
    if (auto* purge = std::get_if<QueuePurge>(&method)) {
        auto purged = broker_.purge(purge->queue);
        if (!purged) {
            return wrap(purged.error());
        }
        if (!purge->no_wait) {
            send_method(channel.number,
                        QueuePurgeOk{.message_count = static_cast<std::uint32_t>(*purged)});
        }
        return {};
    }
    if (auto* remove = std::get_if<QueueDelete>(&method)) {
        broker::DeleteOptions options{
            .if_unused = remove->if_unused, .if_empty = remove->if_empty, .owner = owner_};
        auto deleted = broker_.queue_delete(remove->queue, options);
        // RabbitMQ answers delete-ok with a count of 0 for a missing queue, where the spec
        // says 404, and clients that delete before they declare rely on that.
        const bool missing = !deleted && deleted.error().code == broker::Errc::queue_not_found;
        if (!deleted && !missing) {
            return wrap(deleted.error());
        }
        if (!remove->no_wait) {
            const std::size_t count = missing ? 0 : *deleted;
            send_method(channel.number,
                        QueueDeleteOk{.message_count = static_cast<std::uint32_t>(count)});
        }
        return {};
    }
    return make_error(Errc::command_invalid,
                      fmt::format("{} is sent by servers only", method_name(method)));
}

}  // namespace imgbus::amqp
