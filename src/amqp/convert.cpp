// SPDX-License-Identifier: MIT
// The translation table between the broker module and AMQP: error codes and message properties.
#include <fmt/format.h>

#include "connection.hpp"

namespace imgbus::amqp {

namespace {

Errc reply_code_of(broker::Errc e) {
    switch (e) {
        case broker::Errc::queue_not_found:
        case broker::Errc::exchange_not_found:
            return Errc::not_found;
        case broker::Errc::queue_exists_with_other_options:
        case broker::Errc::exchange_exists_with_other_options:
        case broker::Errc::unknown_delivery_tag:
        case broker::Errc::invalid_argument:
        case broker::Errc::in_use:
        case broker::Errc::not_empty:
        case broker::Errc::queue_full:
        case broker::Errc::consumer_not_found:
            return Errc::precondition_failed;
        case broker::Errc::resource_locked:
            return Errc::resource_locked;
        case broker::Errc::access_refused:
            return Errc::access_refused;
        case broker::Errc::session_not_found:
            return Errc::channel_error;
        case broker::Errc::not_supported:
            return Errc::not_implemented;
        case broker::Errc::journal_failed:
        case broker::Errc::unavailable:
            return Errc::internal_error;
    }
    return Errc::internal_error;
}

// The property's text, moved out, or "" when it is absent.
std::string take(std::optional<std::string>& value) {
    return value ? std::move(*value) : std::string();
}

std::optional<std::string> present(const std::string& value) {
    if (value.empty()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

Error to_amqp_error(const Error& broker_error) {
    if (broker_error.code.category() == amqp_category()) {
        return broker_error;
    }
    Errc code = Errc::internal_error;
    if (broker_error.code.category() == broker::broker_category()) {
        code = reply_code_of(static_cast<broker::Errc>(broker_error.code.value()));
    }
    return make_error(code, broker_error.message);
}

// Designated initializers name every member, so that the broker's default content type is not
// built only to be replaced: the AMQP message carries exactly the properties it was sent with.
broker::Message to_message(BasicProperties properties, std::string body) {
    return broker::Message{
        .body = std::move(body),
        .content_type = take(properties.content_type),
        .message_id = take(properties.message_id),
        .headers = properties.headers ? std::move(*properties.headers) : broker::FieldTable(),
        .persistent = properties.delivery_mode.value_or(1) == 2,
        .published_at = {},
        .content_encoding = take(properties.content_encoding),
        .priority = properties.priority,
        .correlation_id = take(properties.correlation_id),
        .reply_to = take(properties.reply_to),
        .expiration = take(properties.expiration),
        .timestamp = properties.timestamp,
        .type = take(properties.type),
        .user_id = take(properties.user_id),
        .app_id = take(properties.app_id),
        .cluster_id = take(properties.cluster_id)};
}

BasicProperties to_properties(const broker::Message& message) {
    BasicProperties properties;
    properties.content_type = present(message.content_type);
    properties.content_encoding = present(message.content_encoding);
    if (!message.headers.empty()) {
        properties.headers = message.headers;
    }
    properties.delivery_mode = message.persistent ? 2 : 1;
    properties.priority = message.priority;
    properties.correlation_id = present(message.correlation_id);
    properties.reply_to = present(message.reply_to);
    properties.expiration = present(message.expiration);
    properties.message_id = present(message.message_id);
    properties.timestamp = message.timestamp;
    properties.type = present(message.type);
    properties.user_id = present(message.user_id);
    properties.app_id = present(message.app_id);
    properties.cluster_id = present(message.cluster_id);
    return properties;
}

}  // namespace imgbus::amqp
