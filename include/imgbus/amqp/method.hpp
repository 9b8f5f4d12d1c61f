// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "imgbus/amqp/error.hpp"
#include "imgbus/broker/field_table.hpp"

namespace imgbus::amqp {

using broker::FieldTable;

// Each method is a struct with its class and method ids, its dotted name and a static
// `fields(self, visitor)` that lists the arguments in wire order. One list serves the decoder
// and the encoder: the visitor is called with shortstr, longstr, u8/u16/u32/u64, table, and
// bits (a run of bit arguments packed into one octet, lowest bit first).
#define IMGBUS_AMQP_METHOD(klass, method, dotted)      \
    static constexpr std::uint16_t class_id = klass;   \
    static constexpr std::uint16_t method_id = method; \
    static constexpr std::string_view name = dotted

struct ConnectionStart {
    IMGBUS_AMQP_METHOD(10, 10, "connection.start");
    std::uint8_t version_major = 0;
    std::uint8_t version_minor = 9;
    FieldTable server_properties;
    std::string mechanisms = "PLAIN";
    std::string locales = "en_US";
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u8(s.version_major);
        v.u8(s.version_minor);
        v.table(s.server_properties);
        v.longstr(s.mechanisms);
        v.longstr(s.locales);
    }
};

struct ConnectionStartOk {
    IMGBUS_AMQP_METHOD(10, 11, "connection.start-ok");
    FieldTable client_properties;
    std::string mechanism;
    std::string response;
    std::string locale;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.table(s.client_properties);
        v.shortstr(s.mechanism);
        v.longstr(s.response);
        v.shortstr(s.locale);
    }
};

struct ConnectionSecure {
    IMGBUS_AMQP_METHOD(10, 20, "connection.secure");
    std::string challenge;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.longstr(s.challenge);
    }
};

struct ConnectionSecureOk {
    IMGBUS_AMQP_METHOD(10, 21, "connection.secure-ok");
    std::string response;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.longstr(s.response);
    }
};

struct ConnectionTune {
    IMGBUS_AMQP_METHOD(10, 30, "connection.tune");
    std::uint16_t channel_max = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;  // seconds
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.channel_max);
        v.u32(s.frame_max);
        v.u16(s.heartbeat);
    }
};

struct ConnectionTuneOk {
    IMGBUS_AMQP_METHOD(10, 31, "connection.tune-ok");
    std::uint16_t channel_max = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;  // seconds
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.channel_max);
        v.u32(s.frame_max);
        v.u16(s.heartbeat);
    }
};

struct ConnectionOpen {
    IMGBUS_AMQP_METHOD(10, 40, "connection.open");
    std::string virtual_host = "/";
    std::string capabilities;  // reserved
    bool insist = false;       // reserved
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.virtual_host);
        v.shortstr(s.capabilities);
        v.bits(s.insist);
    }
};

struct ConnectionOpenOk {
    IMGBUS_AMQP_METHOD(10, 41, "connection.open-ok");
    std::string known_hosts;  // reserved
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.known_hosts);
    }
};

struct ConnectionClose {
    IMGBUS_AMQP_METHOD(10, 50, "connection.close");
    std::uint16_t reply_code = 200;
    std::string reply_text;
    std::uint16_t failing_class_id = 0;
    std::uint16_t failing_method_id = 0;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.reply_code);
        v.shortstr(s.reply_text);
        v.u16(s.failing_class_id);
        v.u16(s.failing_method_id);
    }
};

struct ConnectionCloseOk {
    IMGBUS_AMQP_METHOD(10, 51, "connection.close-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct ConnectionBlocked {
    IMGBUS_AMQP_METHOD(10, 60, "connection.blocked");
    std::string reason;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.reason);
    }
};

struct ConnectionUnblocked {
    IMGBUS_AMQP_METHOD(10, 61, "connection.unblocked");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct ChannelOpen {
    IMGBUS_AMQP_METHOD(20, 10, "channel.open");
    std::string out_of_band;  // reserved
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.out_of_band);
    }
};

struct ChannelOpenOk {
    IMGBUS_AMQP_METHOD(20, 11, "channel.open-ok");
    std::string channel_id;  // reserved
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.longstr(s.channel_id);
    }
};

struct ChannelFlow {
    IMGBUS_AMQP_METHOD(20, 20, "channel.flow");
    bool active = true;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.bits(s.active);
    }
};

struct ChannelFlowOk {
    IMGBUS_AMQP_METHOD(20, 21, "channel.flow-ok");
    bool active = true;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.bits(s.active);
    }
};

struct ChannelClose {
    IMGBUS_AMQP_METHOD(20, 40, "channel.close");
    std::uint16_t reply_code = 200;
    std::string reply_text;
    std::uint16_t failing_class_id = 0;
    std::uint16_t failing_method_id = 0;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.reply_code);
        v.shortstr(s.reply_text);
        v.u16(s.failing_class_id);
        v.u16(s.failing_method_id);
    }
};

struct ChannelCloseOk {
    IMGBUS_AMQP_METHOD(20, 41, "channel.close-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct ExchangeDeclare {
    IMGBUS_AMQP_METHOD(40, 10, "exchange.declare");
    std::uint16_t ticket = 0;  // reserved
    std::string exchange;
    std::string type = "direct";
    bool passive = false;
    bool durable = false;
    bool auto_delete = false;
    bool internal = false;
    bool no_wait = false;
    FieldTable arguments;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.exchange);
        v.shortstr(s.type);
        v.bits(s.passive, s.durable, s.auto_delete, s.internal, s.no_wait);
        v.table(s.arguments);
    }
};

struct ExchangeDeclareOk {
    IMGBUS_AMQP_METHOD(40, 11, "exchange.declare-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct ExchangeDelete {
    IMGBUS_AMQP_METHOD(40, 20, "exchange.delete");
    std::uint16_t ticket = 0;  // reserved
    std::string exchange;
    bool if_unused = false;
    bool no_wait = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.exchange);
        v.bits(s.if_unused, s.no_wait);
    }
};

struct ExchangeDeleteOk {
    IMGBUS_AMQP_METHOD(40, 21, "exchange.delete-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct QueueDeclare {
    IMGBUS_AMQP_METHOD(50, 10, "queue.declare");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    bool passive = false;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    bool no_wait = false;
    FieldTable arguments;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.bits(s.passive, s.durable, s.exclusive, s.auto_delete, s.no_wait);
        v.table(s.arguments);
    }
};

struct QueueDeclareOk {
    IMGBUS_AMQP_METHOD(50, 11, "queue.declare-ok");
    std::string queue;
    std::uint32_t message_count = 0;
    std::uint32_t consumer_count = 0;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.queue);
        v.u32(s.message_count);
        v.u32(s.consumer_count);
    }
};

struct QueueBind {
    IMGBUS_AMQP_METHOD(50, 20, "queue.bind");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    std::string exchange;
    std::string routing_key;
    bool no_wait = false;
    FieldTable arguments;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.shortstr(s.exchange);
        v.shortstr(s.routing_key);
        v.bits(s.no_wait);
        v.table(s.arguments);
    }
};

struct QueueBindOk {
    IMGBUS_AMQP_METHOD(50, 21, "queue.bind-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct QueuePurge {
    IMGBUS_AMQP_METHOD(50, 30, "queue.purge");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    bool no_wait = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.bits(s.no_wait);
    }
};

struct QueuePurgeOk {
    IMGBUS_AMQP_METHOD(50, 31, "queue.purge-ok");
    std::uint32_t message_count = 0;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u32(s.message_count);
    }
};

struct QueueDelete {
    IMGBUS_AMQP_METHOD(50, 40, "queue.delete");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    bool if_unused = false;
    bool if_empty = false;
    bool no_wait = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.bits(s.if_unused, s.if_empty, s.no_wait);
    }
};

struct QueueDeleteOk {
    IMGBUS_AMQP_METHOD(50, 41, "queue.delete-ok");
    std::uint32_t message_count = 0;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u32(s.message_count);
    }
};

struct QueueUnbind {
    IMGBUS_AMQP_METHOD(50, 50, "queue.unbind");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    std::string exchange;
    std::string routing_key;
    FieldTable arguments;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.shortstr(s.exchange);
        v.shortstr(s.routing_key);
        v.table(s.arguments);
    }
};

struct QueueUnbindOk {
    IMGBUS_AMQP_METHOD(50, 51, "queue.unbind-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct BasicQos {
    IMGBUS_AMQP_METHOD(60, 10, "basic.qos");
    std::uint32_t prefetch_size = 0;  // bytes; only 0 (no limit) is supported, as in RabbitMQ
    std::uint16_t prefetch_count = 0;
    bool global = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u32(s.prefetch_size);
        v.u16(s.prefetch_count);
        v.bits(s.global);
    }
};

struct BasicQosOk {
    IMGBUS_AMQP_METHOD(60, 11, "basic.qos-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct BasicConsume {
    IMGBUS_AMQP_METHOD(60, 20, "basic.consume");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    std::string consumer_tag;
    bool no_local = false;
    bool no_ack = false;
    bool exclusive = false;
    bool no_wait = false;
    FieldTable arguments;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.shortstr(s.consumer_tag);
        v.bits(s.no_local, s.no_ack, s.exclusive, s.no_wait);
        v.table(s.arguments);
    }
};

struct BasicConsumeOk {
    IMGBUS_AMQP_METHOD(60, 21, "basic.consume-ok");
    std::string consumer_tag;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.consumer_tag);
    }
};

struct BasicCancel {
    IMGBUS_AMQP_METHOD(60, 30, "basic.cancel");
    std::string consumer_tag;
    bool no_wait = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.consumer_tag);
        v.bits(s.no_wait);
    }
};

struct BasicCancelOk {
    IMGBUS_AMQP_METHOD(60, 31, "basic.cancel-ok");
    std::string consumer_tag;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.consumer_tag);
    }
};

struct BasicPublish {
    IMGBUS_AMQP_METHOD(60, 40, "basic.publish");
    std::uint16_t ticket = 0;  // reserved
    std::string exchange;
    std::string routing_key;
    bool mandatory = false;
    bool immediate = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.exchange);
        v.shortstr(s.routing_key);
        v.bits(s.mandatory, s.immediate);
    }
};

struct BasicReturn {
    IMGBUS_AMQP_METHOD(60, 50, "basic.return");
    std::uint16_t reply_code = 312;
    std::string reply_text;
    std::string exchange;
    std::string routing_key;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.reply_code);
        v.shortstr(s.reply_text);
        v.shortstr(s.exchange);
        v.shortstr(s.routing_key);
    }
};

struct BasicDeliver {
    IMGBUS_AMQP_METHOD(60, 60, "basic.deliver");
    std::string consumer_tag;
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string exchange;
    std::string routing_key;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.consumer_tag);
        v.u64(s.delivery_tag);
        v.bits(s.redelivered);
        v.shortstr(s.exchange);
        v.shortstr(s.routing_key);
    }
};

struct BasicGet {
    IMGBUS_AMQP_METHOD(60, 70, "basic.get");
    std::uint16_t ticket = 0;  // reserved
    std::string queue;
    bool no_ack = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u16(s.ticket);
        v.shortstr(s.queue);
        v.bits(s.no_ack);
    }
};

struct BasicGetOk {
    IMGBUS_AMQP_METHOD(60, 71, "basic.get-ok");
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string exchange;
    std::string routing_key;
    std::uint32_t message_count = 0;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u64(s.delivery_tag);
        v.bits(s.redelivered);
        v.shortstr(s.exchange);
        v.shortstr(s.routing_key);
        v.u32(s.message_count);
    }
};

struct BasicGetEmpty {
    IMGBUS_AMQP_METHOD(60, 72, "basic.get-empty");
    std::string cluster_id;  // reserved
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.shortstr(s.cluster_id);
    }
};

struct BasicAck {
    IMGBUS_AMQP_METHOD(60, 80, "basic.ack");
    std::uint64_t delivery_tag = 0;
    bool multiple = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u64(s.delivery_tag);
        v.bits(s.multiple);
    }
};

struct BasicReject {
    IMGBUS_AMQP_METHOD(60, 90, "basic.reject");
    std::uint64_t delivery_tag = 0;
    bool requeue = true;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u64(s.delivery_tag);
        v.bits(s.requeue);
    }
};

struct BasicRecoverAsync {
    IMGBUS_AMQP_METHOD(60, 100, "basic.recover-async");
    bool requeue = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.bits(s.requeue);
    }
};

struct BasicRecover {
    IMGBUS_AMQP_METHOD(60, 110, "basic.recover");
    bool requeue = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.bits(s.requeue);
    }
};

struct BasicRecoverOk {
    IMGBUS_AMQP_METHOD(60, 111, "basic.recover-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

struct BasicNack {
    IMGBUS_AMQP_METHOD(60, 120, "basic.nack");
    std::uint64_t delivery_tag = 0;
    bool multiple = false;
    bool requeue = true;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.u64(s.delivery_tag);
        v.bits(s.multiple, s.requeue);
    }
};

struct ConfirmSelect {
    IMGBUS_AMQP_METHOD(85, 10, "confirm.select");
    bool no_wait = false;
    template <class S, class V>
    static void fields(S& s, V& v) {
        v.bits(s.no_wait);
    }
};

struct ConfirmSelectOk {
    IMGBUS_AMQP_METHOD(85, 11, "confirm.select-ok");
    template <class S, class V>
    static void fields(S&, V&) {}
};

#undef IMGBUS_AMQP_METHOD

// Every method of the supported subset, client-to-server and server-to-client alike.
using Method = std::variant<
    ConnectionStart, ConnectionStartOk, ConnectionSecure, ConnectionSecureOk, ConnectionTune,
    ConnectionTuneOk, ConnectionOpen, ConnectionOpenOk, ConnectionClose, ConnectionCloseOk,
    ConnectionBlocked, ConnectionUnblocked, ChannelOpen, ChannelOpenOk, ChannelFlow, ChannelFlowOk,
    ChannelClose, ChannelCloseOk, ExchangeDeclare, ExchangeDeclareOk, ExchangeDelete,
    ExchangeDeleteOk, QueueDeclare, QueueDeclareOk, QueueBind, QueueBindOk, QueuePurge,
    QueuePurgeOk, QueueDelete, QueueDeleteOk, QueueUnbind, QueueUnbindOk, BasicQos, BasicQosOk,
    BasicConsume, BasicConsumeOk, BasicCancel, BasicCancelOk, BasicPublish, BasicReturn,
    BasicDeliver, BasicGet, BasicGetOk, BasicGetEmpty, BasicAck, BasicReject, BasicRecoverAsync,
    BasicRecover, BasicRecoverOk, BasicNack, ConfirmSelect, ConfirmSelectOk>;

// The class and method ids of a method frame, also known for methods outside the subset.
struct MethodId {
    std::uint16_t class_id = 0;
    std::uint16_t method_id = 0;
};

MethodId method_id_of(const Method& method);
std::string_view method_name(const Method& method);

// Decodes the payload of a method frame. Fails with not_implemented (540) for a class or method
// outside the subset (tx, exchange.bind, ...), with syntax_error (502) for truncated or trailing
// bytes or a malformed field table. `id` receives the ids read, when the payload had 4 bytes.
Result<Method> decode_method(std::span<const std::uint8_t> payload, MethodId* id = nullptr);

// Appends one method frame on `channel` to `out`.
void append_method_frame(std::string& out, std::uint16_t channel, const Method& method);

}  // namespace imgbus::amqp
