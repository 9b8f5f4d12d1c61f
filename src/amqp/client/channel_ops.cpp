// SPDX-License-Identifier: MIT
// The work of each public method, run on the I/O thread of the rabbitmq-c client.
#include "amqp_tables.hpp"
#include "remote_broker.hpp"

namespace imgbus::amqp::client {
namespace {

constexpr amqp_channel_t kMaxConsumerChannel = 2047;  // RabbitMQ's default channel_max

broker::Errc errc_of(std::uint16_t reply_code, broker::Errc not_found) {
    switch (reply_code) {
        case AMQP_NOT_FOUND:
            return not_found;
        case AMQP_PRECONDITION_FAILED:
            return broker::Errc::queue_exists_with_other_options;
        case AMQP_ACCESS_REFUSED:
            return broker::Errc::access_refused;
        case AMQP_RESOURCE_LOCKED:
            return broker::Errc::resource_locked;
        default:
            return broker::Errc::invalid_argument;
    }
}

}  // namespace

Result<void> RemoteBrokerImpl::check_reply(amqp_channel_t channel, const std::string& what,
                                           broker::Errc not_found) {
    if (conn_ == nullptr) return unavailable(what);
    const auto reply = rabbitmq_.get_rpc_reply(conn_);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) return {};
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        const auto code = close->reply_code;
        auto text = to_string(close->reply_text);
        amqp_channel_close_ok_t ok{};
        rabbitmq_.send_method(conn_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        forget_channel_deliveries(channel);
        if (channel == kControlChannel) (void)open_channel(channel);
        return broker::make_error(errc_of(code, not_found), what + " refused by the broker: " +
                                                                std::to_string(code) + " " + text);
    }
    std::string reason = reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                             ? rabbitmq_.error_string2(reply.library_error)
                             : "the broker closed the connection";
    drop_connection(what + ": " + reason);
    return unavailable(what);
}

Result<void> RemoteBrokerImpl::open_channel(amqp_channel_t channel) {
    rabbitmq_.channel_open(conn_, channel);
    return check_reply(channel, "opening channel " + std::to_string(channel));
}

Result<void> RemoteBrokerImpl::io_declare(const std::string& queue,
                                          const broker::QueueOptions& options) {
    if (conn_ == nullptr) return unavailable("declaring queue " + queue);
    TableStorage storage;
    const auto arguments = storage.table(queue_arguments(options));
    rabbitmq_.queue_declare(conn_, kControlChannel, storage.bytes(queue), options.passive ? 1 : 0,
                            options.durable ? 1 : 0, options.exclusive ? 1 : 0,
                            options.auto_delete ? 1 : 0, arguments);
    if (auto declared = check_reply(kControlChannel, "declaring queue " + queue); !declared) {
        return declared;
    }
    queues_[queue] = options;
    return {};
}

Result<void> RemoteBrokerImpl::io_publish(const std::string& queue, const broker::Message& message,
                                          ConfirmPromise confirm) {
    if (conn_ == nullptr) return unavailable("publishing to " + queue);
    TableStorage storage;
    const auto properties = to_properties(message, storage);
    const int sent =
        rabbitmq_.basic_publish(conn_, kPublishChannel, kEmptyBytes, storage.bytes(queue), 0, 0,
                                &properties, storage.bytes(message.body));
    if (sent != AMQP_STATUS_OK) {
        drop_connection("publishing: " + std::string(rabbitmq_.error_string2(sent)));
        return unavailable("publishing to " + queue);
    }
    confirms_.emplace(next_publish_seq_++, std::move(confirm));
    return {};
}

amqp_channel_t RemoteBrokerImpl::free_consumer_channel() const {
    for (amqp_channel_t channel = kFirstConsumerChannel; channel < kMaxConsumerChannel; ++channel) {
        if (!channel_consumers_.contains(channel)) return channel;
    }
    return 0;
}

Result<void> RemoteBrokerImpl::io_start_consumer(Consumer& consumer) {
    if (conn_ == nullptr) return unavailable("consuming from " + consumer.queue);
    const auto channel = free_consumer_channel();
    if (channel == 0) {
        return broker::make_error(broker::Errc::invalid_argument,
                                  "every AMQP channel of the connection is taken by a consumer; "
                                  "run fewer workers per process");
    }
    if (auto opened = open_channel(channel); !opened) return opened;
    const auto prefetch =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(consumer.prefetch, 65'535));
    rabbitmq_.basic_qos(conn_, channel, 0, prefetch, 0);
    if (auto qos = check_reply(channel, "basic.qos"); !qos) return qos;
    TableStorage storage;
    rabbitmq_.basic_consume(conn_, channel, storage.bytes(consumer.queue),
                            storage.bytes(consumer.tag), 0, 0, 0, kEmptyTable);
    if (auto started = check_reply(channel, "consuming from " + consumer.queue); !started) {
        return started;
    }
    consumer.channel = channel;
    channel_consumers_[channel] = consumer.tag;
    return {};
}

Result<void> RemoteBrokerImpl::io_cancel(const std::string& tag) {
    auto found = consumers_.find(tag);
    if (found == consumers_.end()) {
        return broker::make_error(broker::Errc::consumer_not_found,
                                  "no consumer with tag " + tag + " on this client");
    }
    const auto channel = found->second.channel;
    consumers_.erase(found);
    if (channel == 0 || conn_ == nullptr) return {};
    channel_consumers_.erase(channel);
    forget_channel_deliveries(channel);
    // Closing the channel cancels the consumer and requeues its unacked deliveries.
    rabbitmq_.channel_close(conn_, channel, AMQP_REPLY_SUCCESS);
    return check_reply(channel, "closing the channel of consumer " + tag);
}

Result<void> RemoteBrokerImpl::io_settle(std::uint64_t tag, Settle how, bool requeue) {
    auto found = deliveries_.find(tag);
    if (found == deliveries_.end() || found->second.generation != generation_ || conn_ == nullptr) {
        return broker::make_error(
            broker::Errc::unavailable,
            "delivery tag " + std::to_string(tag) +
                " came over a broker connection that is closed; the broker redelivers it");
    }
    const auto [generation, channel, amqp_tag] = found->second;
    deliveries_.erase(found);
    int status = AMQP_STATUS_OK;
    switch (how) {
        case Settle::ack:
            status = rabbitmq_.basic_ack(conn_, channel, amqp_tag, 0);
            break;
        case Settle::nack:
            status = rabbitmq_.basic_nack(conn_, channel, amqp_tag, 0, requeue ? 1 : 0);
            break;
        case Settle::reject:
            status = rabbitmq_.basic_reject(conn_, channel, amqp_tag, requeue ? 1 : 0);
            break;
    }
    if (status != AMQP_STATUS_OK) {
        drop_connection("settling a delivery: " + std::string(rabbitmq_.error_string2(status)));
        return unavailable("settling delivery tag " + std::to_string(tag));
    }
    return {};
}

Result<broker::QueueStats> RemoteBrokerImpl::io_queue_stats(const std::string& queue) {
    if (conn_ == nullptr) return unavailable("reading the depth of " + queue);
    TableStorage storage;
    const auto* ok = rabbitmq_.queue_declare(conn_, kControlChannel, storage.bytes(queue), 1, 0, 0,
                                             0, kEmptyTable);
    if (auto checked = check_reply(kControlChannel, "passive declare of " + queue); !checked) {
        return checked.error();
    }
    broker::QueueStats stats;
    stats.name = queue;
    stats.messages_ready = ok->message_count;
    stats.consumers = ok->consumer_count;
    if (auto known = queues_.find(queue); known != queues_.end()) {
        stats.durable = known->second.durable;
        stats.max_length_messages = known->second.max_length_messages;
    }
    return stats;
}

Result<std::size_t> RemoteBrokerImpl::io_purge(const std::string& queue) {
    if (conn_ == nullptr) return unavailable("purging " + queue);
    TableStorage storage;
    const auto* ok = rabbitmq_.queue_purge(conn_, kControlChannel, storage.bytes(queue));
    if (auto checked = check_reply(kControlChannel, "purging " + queue); !checked) {
        return checked.error();
    }
    return static_cast<std::size_t>(ok->message_count);
}

Result<void> RemoteBrokerImpl::io_delete(const std::string& queue) {
    if (conn_ == nullptr) return unavailable("deleting " + queue);
    TableStorage storage;
    rabbitmq_.queue_delete(conn_, kControlChannel, storage.bytes(queue), 0, 0);
    if (auto checked = check_reply(kControlChannel, "deleting " + queue); !checked) return checked;
    queues_.erase(queue);
    return {};
}

void RemoteBrokerImpl::forget_channel_deliveries(amqp_channel_t channel) {
    std::erase_if(deliveries_,
                  [channel](const auto& entry) { return entry.second.channel == channel; });
}

}  // namespace imgbus::amqp::client
