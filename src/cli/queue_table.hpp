// SPDX-License-Identifier: MIT
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace imgbus::cli {

// One queue of a management API's GET /api/queues, imgbus's or RabbitMQ's. RabbitMQ leaves out
// message_stats until a queue has traffic; missing numbers read as 0.
struct QueueRow {
    std::string name;
    std::string vhost = "/";
    std::uint64_t ready = 0;
    std::uint64_t unacked = 0;
    std::uint64_t consumers = 0;
    double publish_rate = 0;
    double deliver_rate = 0;
    double ack_rate = 0;
};

// Reads the rows of a GET /api/queues response, skipping items that are not objects with a name.
std::vector<QueueRow> parse_queue_rows(const nlohmann::json& queues);

// A fixed-width table: queue, ready, unacked, consumers, publish/s, deliver/s, ack/s. The vhost
// is shown before the name when any queue is outside "/".
std::string format_queue_table(const std::vector<QueueRow>& rows);

}  // namespace imgbus::cli
