// SPDX-License-Identifier: MIT
#include "connection_stats.hpp"

namespace imgbus::amqp {

namespace {

std::uint64_t read(const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
}

}  // namespace

broker::ChannelCounters ChannelStats::counters() const {
    return broker::ChannelCounters{.publish = read(publish),
                                   .confirm = read(confirm),
                                   .return_unroutable = read(return_unroutable),
                                   .drop_unroutable = read(drop_unroutable),
                                   .deliver = read(deliver),
                                   .deliver_no_ack = read(deliver_no_ack),
                                   .get = read(get),
                                   .get_no_ack = read(get_no_ack),
                                   .get_empty = read(get_empty),
                                   .ack = read(ack),
                                   .redeliver = read(redeliver)};
}

ConnectionStats::ConnectionStats(std::uint64_t id, std::string owner) {
    info_.id = id;
    info_.owner = std::move(owner);
    info_.protocol = "AMQP 0-9-1";
    info_.state = "starting";
    info_.connected_at = std::chrono::system_clock::now();
}

void ConnectionStats::set_endpoints(std::string peer_host, std::uint16_t peer_port,
                                    std::string host, std::uint16_t port) {
    std::lock_guard lock(mutex_);
    info_.peer_host = std::move(peer_host);
    info_.peer_port = peer_port;
    info_.host = std::move(host);
    info_.port = port;
}

void ConnectionStats::set_state(const char* state) {
    std::lock_guard lock(mutex_);
    info_.state = state;
}

void ConnectionStats::set_login(std::string user, std::string mechanism,
                                broker::FieldTable client_properties) {
    std::lock_guard lock(mutex_);
    info_.user = std::move(user);
    info_.auth_mechanism = std::move(mechanism);
    info_.client_properties = std::move(client_properties);
    info_.state = "tuning";
}

void ConnectionStats::set_tuning(std::uint16_t heartbeat_seconds, std::uint32_t frame_max,
                                 std::uint16_t channel_max) {
    std::lock_guard lock(mutex_);
    info_.heartbeat_seconds = heartbeat_seconds;
    info_.frame_max = frame_max;
    info_.channel_max = channel_max;
    info_.state = "opening";
}

void ConnectionStats::set_vhost(std::string vhost) {
    std::lock_guard lock(mutex_);
    info_.vhost = std::move(vhost);
    info_.state = "running";
}

std::shared_ptr<ChannelStats> ConnectionStats::open_channel(std::uint16_t number,
                                                            broker::SessionId session) {
    auto stats = std::make_shared<ChannelStats>();
    std::lock_guard lock(mutex_);
    channels_[number] = OpenChannel{session, stats};
    return stats;
}

void ConnectionStats::close_channel(std::uint16_t number) {
    std::lock_guard lock(mutex_);
    channels_.erase(number);
}

void ConnectionStats::close_all_channels() {
    std::lock_guard lock(mutex_);
    channels_.clear();
}

broker::ConnectionInfo ConnectionStats::snapshot() const {
    std::lock_guard lock(mutex_);
    broker::ConnectionInfo info = info_;
    info.recv_oct = read(recv_oct);
    info.send_oct = read(send_oct);
    info.recv_cnt = read(recv_cnt);
    info.send_cnt = read(send_cnt);
    for (const auto& [number, channel] : channels_) {
        const auto& stats = *channel.stats;
        info.channels.push_back(
            broker::ChannelInfo{.number = number,
                                .session = channel.session,
                                .confirm = stats.confirm_mode.load(std::memory_order_relaxed),
                                .messages_unconfirmed = read(stats.unconfirmed),
                                .counters = stats.counters()});
    }
    return info;
}

}  // namespace imgbus::amqp
