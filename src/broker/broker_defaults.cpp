// SPDX-License-Identifier: MIT
// Default implementations of the Broker's AMQP operations. Each fails with not_supported naming
// the operation, so that a Broker implementation without them still compiles.
#include "imgbus/broker/broker.hpp"

namespace imgbus::broker {

namespace {

Error unsupported(const char* operation) {
    return make_error(Errc::not_supported,
                      std::string(operation) +
                          " is not supported by this broker; use the embedded broker or RabbitMQ");
}

}  // namespace

Result<ExchangeType> parse_exchange_type(const std::string& name) {
    if (name == "direct") return ExchangeType::direct;
    if (name == "fanout") return ExchangeType::fanout;
    if (name == "topic") return ExchangeType::topic;
    if (name == "headers") return ExchangeType::headers;
    return make_error(Errc::not_supported,
                      "unknown exchange type '" + name + "': use direct, fanout, topic or headers");
}

const char* exchange_type_name(ExchangeType type) {
    switch (type) {
        case ExchangeType::direct:
            return "direct";
        case ExchangeType::fanout:
            return "fanout";
        case ExchangeType::topic:
            return "topic";
        case ExchangeType::headers:
            return "headers";
    }
    return "direct";
}

Result<void> Broker::exchange_declare(const std::string&, const ExchangeOptions&) {
    return unsupported("exchange.declare");
}
Result<void> Broker::exchange_delete(const std::string&, bool) {
    return unsupported("exchange.delete");
}
Result<QueueDeclareOk> Broker::queue_declare(const std::string&, const QueueOptions&) {
    return unsupported("queue.declare");
}
Result<std::size_t> Broker::queue_delete(const std::string&, const DeleteOptions&) {
    return unsupported("queue.delete");
}
Result<void> Broker::queue_bind(const std::string&, const std::string&, const std::string&,
                                const FieldTable&) {
    return unsupported("queue.bind");
}
Result<void> Broker::queue_unbind(const std::string&, const std::string&, const std::string&,
                                  const FieldTable&) {
    return unsupported("queue.unbind");
}
Result<PublishOutcome> Broker::basic_publish(const std::string&, const std::string&, Message,
                                             const PublishOptions& options) {
    if (options.on_confirm) {
        options.on_confirm(false);
    }
    return unsupported("basic.publish");
}
Result<SessionId> Broker::open_session(const std::string&) { return unsupported("sessions"); }
Result<void> Broker::close_session(SessionId) { return unsupported("sessions"); }
void Broker::release_owner(const std::string&) {}
Result<void> Broker::basic_qos(SessionId, std::uint32_t, bool) { return unsupported("basic.qos"); }
Result<std::string> Broker::basic_consume(const std::string&, const ConsumeOptions&,
                                          DeliveryHandler) {
    return unsupported("basic.consume");
}
Result<std::optional<GetOk>> Broker::basic_get(SessionId, const std::string&, bool) {
    return unsupported("basic.get");
}
Result<void> Broker::basic_ack(SessionId, std::uint64_t, bool) { return unsupported("basic.ack"); }
Result<void> Broker::basic_nack(SessionId, std::uint64_t, bool, bool) {
    return unsupported("basic.nack");
}
Result<void> Broker::basic_reject(SessionId, std::uint64_t, bool) {
    return unsupported("basic.reject");
}
Result<void> Broker::basic_recover(SessionId) { return unsupported("basic.recover"); }
std::vector<ExchangeInfo> Broker::list_exchanges() { return {}; }
std::vector<BindingInfo> Broker::list_bindings() { return {}; }
BrokerStats Broker::broker_stats() { return {}; }
std::vector<ConsumerInfo> Broker::list_consumers() { return {}; }
std::vector<SessionInfo> Broker::list_sessions() { return {}; }
std::uint64_t Broker::add_blocked_listener(BlockedHandler) { return 0; }
void Broker::remove_blocked_listener(std::uint64_t) {}

}  // namespace imgbus::broker
