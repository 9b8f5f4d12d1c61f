// SPDX-License-Identifier: MIT
#pragma once

#include <amqp.h>

#include <deque>
#include <string>
#include <vector>

#include "imgbus/broker/broker.hpp"

namespace imgbus::amqp::client {

// Owns the memory that rabbitmq-c structures built from imgbus values point into. Keep it alive
// until the call that sends them returns.
class TableStorage {
  public:
    amqp_bytes_t bytes(std::string text);
    // Scalars, strings, byte arrays and timestamps convert; nested tables and arrays are left
    // out, since no imgbus message or queue argument uses them.
    amqp_table_t table(const broker::FieldTable& fields);

  private:
    std::deque<std::string> strings_;
    std::deque<std::vector<amqp_table_entry_t>> entries_;
};

broker::FieldTable from_amqp_table(const amqp_table_t& table);

// The x-arguments that give a queue on RabbitMQ or on imgbus' AMQP listener the same settings
// as `options` give a queue of the embedded broker.
broker::FieldTable queue_arguments(const broker::QueueOptions& options);

// Header carrying the publish time in milliseconds since the epoch, so that a consumer elsewhere
// can measure the queue wait (the AMQP timestamp property has whole seconds only).
inline constexpr const char* kPublishedHeader = "imgbus-published-ms";

amqp_basic_properties_t to_properties(const broker::Message& message, TableStorage& storage);
broker::Message to_message(const amqp_basic_properties_t& properties, amqp_bytes_t body);

std::string to_string(amqp_bytes_t bytes);

}  // namespace imgbus::amqp::client
