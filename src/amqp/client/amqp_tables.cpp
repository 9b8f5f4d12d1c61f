// SPDX-License-Identifier: MIT
#include "amqp_tables.hpp"

#include <chrono>
#include <type_traits>

namespace imgbus::amqp::client {
namespace {

// Fills `value` from one scalar alternative of a FieldValue; false for tables and arrays.
bool to_field(const broker::FieldValue& field, TableStorage& storage, amqp_field_value_t& value) {
    return std::visit(
        [&](const auto& v) -> bool {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
                value.kind = AMQP_FIELD_KIND_BOOLEAN;
                value.value.boolean = v ? 1 : 0;
            } else if constexpr (std::is_same_v<T, std::int8_t>) {
                value.kind = AMQP_FIELD_KIND_I8;
                value.value.i8 = v;
            } else if constexpr (std::is_same_v<T, std::uint8_t>) {
                value.kind = AMQP_FIELD_KIND_U8;
                value.value.u8 = v;
            } else if constexpr (std::is_same_v<T, std::int16_t>) {
                value.kind = AMQP_FIELD_KIND_I16;
                value.value.i16 = v;
            } else if constexpr (std::is_same_v<T, std::uint16_t>) {
                value.kind = AMQP_FIELD_KIND_U16;
                value.value.u16 = v;
            } else if constexpr (std::is_same_v<T, std::int32_t>) {
                value.kind = AMQP_FIELD_KIND_I32;
                value.value.i32 = v;
            } else if constexpr (std::is_same_v<T, std::uint32_t>) {
                value.kind = AMQP_FIELD_KIND_U32;
                value.value.u32 = v;
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                value.kind = AMQP_FIELD_KIND_I64;
                value.value.i64 = v;
            } else if constexpr (std::is_same_v<T, std::uint64_t>) {
                value.kind = AMQP_FIELD_KIND_U64;
                value.value.u64 = v;
            } else if constexpr (std::is_same_v<T, float>) {
                value.kind = AMQP_FIELD_KIND_F32;
                value.value.f32 = v;
            } else if constexpr (std::is_same_v<T, double>) {
                value.kind = AMQP_FIELD_KIND_F64;
                value.value.f64 = v;
            } else if constexpr (std::is_same_v<T, std::string>) {
                value.kind = AMQP_FIELD_KIND_UTF8;
                value.value.bytes = storage.bytes(v);
            } else if constexpr (std::is_same_v<T, broker::Bytes>) {
                value.kind = AMQP_FIELD_KIND_BYTES;
                value.value.bytes = storage.bytes(v.data);
            } else if constexpr (std::is_same_v<T, broker::Timestamp>) {
                value.kind = AMQP_FIELD_KIND_TIMESTAMP;
                value.value.u64 = v.seconds;
            } else {
                return false;
            }
            return true;
        },
        field.value);
}

std::optional<broker::FieldValue> from_field(const amqp_field_value_t& value) {
    switch (value.kind) {
        case AMQP_FIELD_KIND_BOOLEAN:
            return broker::FieldValue{value.value.boolean != 0};
        case AMQP_FIELD_KIND_I8:
            return broker::FieldValue{value.value.i8};
        case AMQP_FIELD_KIND_U8:
            return broker::FieldValue{value.value.u8};
        case AMQP_FIELD_KIND_I16:
            return broker::FieldValue{value.value.i16};
        case AMQP_FIELD_KIND_U16:
            return broker::FieldValue{value.value.u16};
        case AMQP_FIELD_KIND_I32:
            return broker::FieldValue{value.value.i32};
        case AMQP_FIELD_KIND_U32:
            return broker::FieldValue{value.value.u32};
        case AMQP_FIELD_KIND_I64:
            return broker::FieldValue{value.value.i64};
        case AMQP_FIELD_KIND_U64:
            return broker::FieldValue{value.value.u64};
        case AMQP_FIELD_KIND_F32:
            return broker::FieldValue{value.value.f32};
        case AMQP_FIELD_KIND_F64:
            return broker::FieldValue{value.value.f64};
        case AMQP_FIELD_KIND_UTF8:
            return broker::FieldValue{to_string(value.value.bytes)};
        case AMQP_FIELD_KIND_BYTES:
            return broker::FieldValue{broker::Bytes{to_string(value.value.bytes)}};
        case AMQP_FIELD_KIND_TIMESTAMP:
            return broker::FieldValue{broker::Timestamp{value.value.u64}};
        default:
            return std::nullopt;
    }
}

std::int64_t to_millis(std::chrono::system_clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

}  // namespace

std::string to_string(amqp_bytes_t bytes) {
    return bytes.len == 0 ? std::string{}
                          : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

amqp_bytes_t TableStorage::bytes(std::string text) {
    auto& kept = strings_.emplace_back(std::move(text));
    return amqp_bytes_t{kept.size(), kept.data()};
}

amqp_table_t TableStorage::table(const broker::FieldTable& fields) {
    auto& entries = entries_.emplace_back();
    entries.reserve(fields.size());
    for (const auto& entry : fields.entries()) {
        amqp_table_entry_t converted{};
        if (!to_field(entry.value, *this, converted.value)) continue;
        converted.key = bytes(entry.name);
        entries.push_back(converted);
    }
    return amqp_table_t{static_cast<int>(entries.size()), entries.data()};
}

broker::FieldTable from_amqp_table(const amqp_table_t& table) {
    broker::FieldTable fields;
    for (int i = 0; i < table.num_entries; ++i) {
        if (auto value = from_field(table.entries[i].value)) {
            fields.set(to_string(table.entries[i].key), std::move(*value));
        }
    }
    return fields;
}

broker::FieldTable queue_arguments(const broker::QueueOptions& options) {
    broker::FieldTable arguments;
    arguments.set("x-max-length", static_cast<std::int64_t>(options.max_length_messages));
    arguments.set("x-overflow", options.overflow == broker::Overflow::drop_head
                                    ? std::string("drop-head")
                                    : std::string("reject-publish"));
    if (options.max_length_bytes != 0) {
        arguments.set("x-max-length-bytes", static_cast<std::int64_t>(options.max_length_bytes));
    }
    if (options.message_ttl) {
        arguments.set("x-message-ttl", static_cast<std::int64_t>(options.message_ttl->count()));
    }
    if (options.dead_letter_exchange) {
        arguments.set("x-dead-letter-exchange", *options.dead_letter_exchange);
    }
    if (options.dead_letter_routing_key) {
        arguments.set("x-dead-letter-routing-key", *options.dead_letter_routing_key);
    }
    if (options.max_priority != 0) {
        arguments.set("x-max-priority", static_cast<std::int64_t>(options.max_priority));
    }
    for (const auto& entry : options.arguments.entries()) arguments.set(entry.name, entry.value);
    return arguments;
}

amqp_basic_properties_t to_properties(const broker::Message& message, TableStorage& storage) {
    amqp_basic_properties_t p{};
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_HEADERS_FLAG;
    p.delivery_mode = message.persistent ? 2 : 1;
    const auto now = std::chrono::system_clock::now();
    p.timestamp = static_cast<std::uint64_t>(to_millis(now) / 1000);
    auto headers = message.headers;
    headers.set(kPublishedHeader, to_millis(now));
    p.headers = storage.table(headers);
    auto text = [&](const std::string& value, amqp_flags_t flag, amqp_bytes_t& field) {
        if (value.empty()) return;
        p._flags |= flag;
        field = storage.bytes(value);
    };
    text(message.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
    text(message.content_encoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding);
    text(message.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
    text(message.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
    text(message.reply_to, AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
    text(message.expiration, AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
    text(message.type, AMQP_BASIC_TYPE_FLAG, p.type);
    text(message.app_id, AMQP_BASIC_APP_ID_FLAG, p.app_id);
    if (message.priority) {
        p._flags |= AMQP_BASIC_PRIORITY_FLAG;
        p.priority = *message.priority;
    }
    return p;
}

broker::Message to_message(const amqp_basic_properties_t& p, amqp_bytes_t body) {
    broker::Message message;
    message.body = to_string(body);
    auto text = [&](amqp_flags_t flag, const amqp_bytes_t& field) {
        return (p._flags & flag) != 0 ? to_string(field) : std::string{};
    };
    message.content_type = text(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
    message.content_encoding = text(AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding);
    message.message_id = text(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
    message.correlation_id = text(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
    message.reply_to = text(AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
    message.expiration = text(AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
    message.type = text(AMQP_BASIC_TYPE_FLAG, p.type);
    message.app_id = text(AMQP_BASIC_APP_ID_FLAG, p.app_id);
    message.persistent = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 && p.delivery_mode == 2;
    if ((p._flags & AMQP_BASIC_PRIORITY_FLAG) != 0) message.priority = p.priority;
    if ((p._flags & AMQP_BASIC_TIMESTAMP_FLAG) != 0) {
        message.timestamp = p.timestamp;
        message.published_at = std::chrono::system_clock::time_point{
            std::chrono::seconds(static_cast<std::chrono::seconds::rep>(p.timestamp))};
    }
    if ((p._flags & AMQP_BASIC_HEADERS_FLAG) != 0) message.headers = from_amqp_table(p.headers);
    if (const auto* sent = message.headers.find(kPublishedHeader)) {
        if (const auto* ms = std::get_if<std::int64_t>(&sent->value)) {
            message.published_at =
                std::chrono::system_clock::time_point{std::chrono::milliseconds(*ms)};
        }
    }
    return message;
}

}  // namespace imgbus::amqp::client
