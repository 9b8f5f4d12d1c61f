// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "imgbus/broker/clients.hpp"

namespace imgbus::amqp {

// Adds to a counter that only one thread (the connection's strand) writes. A relaxed load and
// store need no locked instruction, which keeps the frame path as cheap as without counters.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// The live counters of one channel, written on the connection's strand and read by snapshots
// from any thread. A snapshot may see one counter a step ahead of another, but never a torn value.
struct ChannelStats {
    std::atomic<std::uint64_t> publish{0};
    std::atomic<std::uint64_t> confirm{0};
    std::atomic<std::uint64_t> return_unroutable{0};
    std::atomic<std::uint64_t> drop_unroutable{0};
    std::atomic<std::uint64_t> deliver{0};
    std::atomic<std::uint64_t> deliver_no_ack{0};
    std::atomic<std::uint64_t> get{0};
    std::atomic<std::uint64_t> get_no_ack{0};
    std::atomic<std::uint64_t> get_empty{0};
    std::atomic<std::uint64_t> ack{0};
    std::atomic<std::uint64_t> redeliver{0};
    std::atomic<std::uint64_t> unconfirmed{0};
    std::atomic<bool> confirm_mode{false};

    broker::ChannelCounters counters() const;
};

// What the management API shows of one connection. The byte and frame counters are atomics
// written on the strand. The rest changes a few times in a connection's life (handshake, channel
// open and close, blocked), so it sits under a mutex that only those changes and snapshot() take.
class ConnectionStats {
  public:
    ConnectionStats(std::uint64_t id, std::string owner);

    void set_endpoints(std::string peer_host, std::uint16_t peer_port, std::string host,
                       std::uint16_t port);
    void set_state(const char* state);
    void set_login(std::string user, std::string mechanism, broker::FieldTable client_properties);
    void set_tuning(std::uint16_t heartbeat_seconds, std::uint32_t frame_max,
                    std::uint16_t channel_max);
    void set_vhost(std::string vhost);
    // Registers an opened channel; the returned counters live as long as either side needs them.
    std::shared_ptr<ChannelStats> open_channel(std::uint16_t number, broker::SessionId session);
    void close_channel(std::uint16_t number);
    void close_all_channels();

    broker::ConnectionInfo snapshot() const;

    std::atomic<std::uint64_t> recv_oct{0};
    std::atomic<std::uint64_t> send_oct{0};
    std::atomic<std::uint64_t> recv_cnt{0};
    std::atomic<std::uint64_t> send_cnt{0};

  private:
    struct OpenChannel {
        broker::SessionId session = 0;
        std::shared_ptr<ChannelStats> stats;
    };

    mutable std::mutex mutex_;
    broker::ConnectionInfo info_;                    // guarded by mutex_; channels stay empty
    std::map<std::uint16_t, OpenChannel> channels_;  // guarded by mutex_
};

}  // namespace imgbus::amqp
