// SPDX-License-Identifier: MIT
// What a broker and its protocol listeners report about their clients, for the management API:
// consumers and sessions (from the broker), connections and channels (from a listener such as
// the AMQP one). Plain values, copied out under the owner's lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "imgbus/broker/field_table.hpp"

namespace imgbus::broker {

using SessionId = std::uint64_t;

struct ConsumerInfo {
    std::string consumer_tag;
    std::string queue;
    SessionId session = 0;  // 0: an in-process consumer without a session (no connection)
    std::string owner;      // the session's owner (the connection); empty without a session
    std::size_t prefetch_count = 0;  // the consumer's window of unacked messages; 0 = unlimited
    bool no_ack = false;
    bool exclusive = false;
};

struct SessionInfo {
    SessionId id = 0;
    std::string owner;
    std::size_t messages_unacknowledged = 0;
    std::uint32_t prefetch_count = 0;         // basic.qos with global false
    std::uint32_t global_prefetch_count = 0;  // basic.qos with global true
    std::size_t consumer_count = 0;
};

// RabbitMQ's channel message_stats counters of one channel.
struct ChannelCounters {
    std::uint64_t publish = 0;
    std::uint64_t confirm = 0;  // confirms (acks) sent to the publisher
    std::uint64_t return_unroutable = 0;
    std::uint64_t drop_unroutable = 0;
    std::uint64_t deliver = 0;  // basic.deliver to consumers that ack
    std::uint64_t deliver_no_ack = 0;
    std::uint64_t get = 0;  // basic.get-ok that must be acked
    std::uint64_t get_no_ack = 0;
    std::uint64_t get_empty = 0;
    std::uint64_t ack = 0;  // basic.ack frames from the client
    std::uint64_t redeliver = 0;
};

struct ChannelInfo {
    std::uint16_t number = 0;
    SessionId session = 0;  // the broker session behind the channel
    bool confirm = false;
    std::uint64_t messages_unconfirmed = 0;
    ChannelCounters counters;
};

// One client connection of a listener.
struct ConnectionInfo {
    std::uint64_t id = 0;
    std::string owner;  // the name the connection's sessions carry as owner in the broker
    std::string protocol;
    std::string peer_host;
    std::uint16_t peer_port = 0;
    std::string host;  // the listener's address the client connected to
    std::uint16_t port = 0;
    std::string state;  // "starting", "tuning", "opening", "running", "blocked", "closing"
    std::string user;   // empty until the login succeeded
    std::string vhost;  // empty until connection.open
    std::string auth_mechanism;
    std::chrono::system_clock::time_point connected_at;
    std::uint16_t heartbeat_seconds = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t channel_max = 0;
    FieldTable client_properties;
    std::uint64_t recv_oct = 0;  // bytes read from the socket
    std::uint64_t send_oct = 0;  // bytes written to the socket
    std::uint64_t recv_cnt = 0;  // reads that returned data
    std::uint64_t send_cnt = 0;  // writes
    std::vector<ChannelInfo> channels;

    // RabbitMQ's connection name: "PEER_HOST:PEER_PORT -> HOST:PORT".
    std::string name() const {
        return peer_host + ":" + std::to_string(peer_port) + " -> " + host + ":" +
               std::to_string(port);
    }
};

}  // namespace imgbus::broker
