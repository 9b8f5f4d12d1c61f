// SPDX-License-Identifier: MIT
#include "connection_stats.hpp"

#include <catch2/catch.hpp>

using imgbus::amqp::bump;
using imgbus::amqp::ConnectionStats;

TEST_CASE("connection snapshot carries the handshake and the channels", "[amqp]") {
    ConnectionStats stats(7, "amqp-connection-7");
    stats.set_endpoints("127.0.0.1", 40000, "127.0.0.1", 5672);
    CHECK(stats.snapshot().state == "starting");
    imgbus::broker::FieldTable client{{"product", imgbus::broker::FieldValue("pika")}};
    stats.set_login("user", "PLAIN", client);
    stats.set_tuning(30, 131072, 2047);
    stats.set_vhost("/");
    auto channel = stats.open_channel(1, 99);
    bump(channel->publish, 3);
    bump(channel->deliver);
    channel->confirm_mode = true;
    channel->unconfirmed = 2;
    bump(stats.recv_oct, 500);
    bump(stats.recv_cnt);

    auto info = stats.snapshot();
    CHECK(info.name() == "127.0.0.1:40000 -> 127.0.0.1:5672");
    CHECK(info.owner == "amqp-connection-7");
    CHECK(info.state == "running");
    CHECK(info.user == "user");
    CHECK(info.vhost == "/");
    CHECK(info.heartbeat_seconds == 30);
    CHECK(info.client_properties == client);
    CHECK(info.recv_oct == 500);
    CHECK(info.recv_cnt == 1);
    REQUIRE(info.channels.size() == 1);
    CHECK(info.channels[0].number == 1);
    CHECK(info.channels[0].session == 99);
    CHECK(info.channels[0].confirm);
    CHECK(info.channels[0].messages_unconfirmed == 2);
    CHECK(info.channels[0].counters.publish == 3);
    CHECK(info.channels[0].counters.deliver == 1);

    stats.close_channel(1);
    CHECK(stats.snapshot().channels.empty());
    CHECK(channel->publish == 3);  // the connection's own reference stays valid
}
