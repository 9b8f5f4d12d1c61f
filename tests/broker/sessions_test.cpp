// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "imgbus/broker/broker.hpp"
#include "test_support.hpp"

using namespace imgbus::broker;
using imgbus::broker::test::body;
using imgbus::broker::test::ready;
using imgbus::broker::test::Recorded;

namespace {

std::unique_ptr<Broker> broker_with(std::initializer_list<const char*> queues,
                                    BrokerOptions options = {}) {
    auto broker = open_embedded_broker(options);
    REQUIRE(broker.ok());
    for (const char* name : queues) {
        QueueOptions queue;
        queue.durable = false;
        REQUIRE((*broker)->queue_declare(name, queue).ok());
    }
    return std::move(*broker);
}

void publish(Broker& broker, const std::string& queue, int count) {
    for (int i = 0; i < count; ++i) {
        REQUIRE(broker.basic_publish("", queue, body(queue + std::to_string(i)), {}).ok());
    }
}

}  // namespace

TEST_CASE("session tags count from 1", "[broker]") {
    auto broker = broker_with({"a", "b"});
    publish(*broker, "a", 2);
    publish(*broker, "b", 1);
    auto session = broker->open_session("conn");
    REQUIRE(session.ok());
    Recorded recorded;
    ConsumeOptions consume;
    consume.session = *session;
    REQUIRE(broker->basic_consume("a", consume, recorded.handler()).ok());
    auto got = broker->basic_get(*session, "b", false);
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    CHECK((*got)->delivery.delivery_tag == 3);
    CHECK((*got)->message_count == 0);
    auto deliveries = recorded.deliveries();
    REQUIRE(deliveries.size() == 2);
    CHECK(deliveries[0].delivery_tag == 1);
    CHECK(deliveries[1].delivery_tag == 2);
    CHECK(deliveries[0].consumer_tag.starts_with("amq.ctag-"));
    CHECK(broker->basic_get(*session, "b", false)->has_value() == false);
}

TEST_CASE("multiple ack settles up to tag", "[broker]") {
    auto broker = broker_with({"q"});
    publish(*broker, "q", 5);
    auto session = broker->open_session("conn");
    Recorded recorded;
    ConsumeOptions consume;
    consume.session = *session;
    REQUIRE(broker->basic_consume("q", consume, recorded.handler()).ok());
    REQUIRE(recorded.size() == 5);
    REQUIRE(broker->basic_ack(*session, 3, true).ok());
    CHECK(broker->queue_stats("q")->messages_unacknowledged == 2);
    CHECK(broker->queue_stats("q")->acked_total == 3);
    CHECK(broker->basic_ack(*session, 2, false).error().code == Errc::unknown_delivery_tag);
    REQUIRE(broker->basic_ack(*session, 0, true).ok());  // everything outstanding
    CHECK(broker->queue_stats("q")->messages_unacknowledged == 0);
}

TEST_CASE("multiple nack requeues in order", "[broker]") {
    auto broker = broker_with({"q"});
    publish(*broker, "q", 3);
    auto session = broker->open_session("conn");
    auto first = broker->basic_get(*session, "q", false);
    auto second = broker->basic_get(*session, "q", false);
    REQUIRE(broker->basic_nack(*session, (*second)->delivery.delivery_tag, true, true).ok());
    std::vector<std::string> order;
    std::vector<bool> redelivered;
    while (true) {
        auto next = broker->basic_get(0, "q", true);
        if (!next->has_value()) break;
        order.push_back((*next)->delivery.message.body);
        redelivered.push_back((*next)->delivery.redelivered);
    }
    CHECK(order == std::vector<std::string>{"q0", "q1", "q2"});
    CHECK(redelivered == std::vector<bool>{true, true, false});
    (void)first;
}

TEST_CASE("global qos shared by consumers", "[broker]") {
    auto broker = broker_with({"a", "b"});
    publish(*broker, "a", 5);
    publish(*broker, "b", 5);
    auto session = broker->open_session("conn");
    REQUIRE(broker->basic_qos(*session, 3, true).ok());
    REQUIRE(broker->basic_qos(*session, 2, false).ok());
    Recorded from_a;
    Recorded from_b;
    ConsumeOptions consume;
    consume.session = *session;
    REQUIRE(broker->basic_consume("a", consume, from_a.handler()).ok());
    REQUIRE(broker->basic_consume("b", consume, from_b.handler()).ok());
    CHECK(from_a.size() == 2);  // its own prefetch of 2
    CHECK(from_b.size() == 1);  // the session's 3 are used up
    REQUIRE(broker->basic_ack(*session, from_a.deliveries()[0].delivery_tag, false).ok());
    CHECK(from_a.size() + from_b.size() == 4);

    // Raising the session limit lets both fill their own windows.
    REQUIRE(broker->basic_qos(*session, 0, true).ok());
    CHECK(from_a.size() == 3);
    CHECK(from_b.size() == 2);
}

TEST_CASE("session close requeues unacked", "[broker]") {
    auto broker = broker_with({"q"});
    publish(*broker, "q", 3);
    auto session = broker->open_session("conn");
    Recorded recorded;
    ConsumeOptions consume;
    consume.session = *session;
    consume.prefetch = 2;
    REQUIRE(broker->basic_consume("q", consume, recorded.handler()).ok());
    auto got = broker->basic_get(*session, "q", false);
    REQUIRE(got->has_value());
    CHECK(ready(*broker, "q") == 0);
    REQUIRE(broker->close_session(*session).ok());
    CHECK(ready(*broker, "q") == 3);
    CHECK(broker->queue_stats("q")->consumers == 0);
    auto next = broker->basic_get(0, "q", true);
    CHECK((*next)->delivery.message.body == "q0");
    CHECK((*next)->delivery.redelivered);
    CHECK(broker->basic_ack(*session, 1, false).error().code == Errc::session_not_found);
}

TEST_CASE("recover requeues unacked", "[broker]") {
    auto broker = broker_with({"q"});
    publish(*broker, "q", 2);
    auto session = broker->open_session("conn");
    REQUIRE(broker->basic_get(*session, "q", false)->has_value());
    REQUIRE(broker->basic_get(*session, "q", false)->has_value());
    REQUIRE(broker->basic_recover(*session).ok());
    CHECK(ready(*broker, "q") == 2);
}

TEST_CASE("round robin and no-ack consumers", "[broker]") {
    auto broker = broker_with({"q", "free"});
    Recorded one;
    Recorded two;
    ConsumeOptions windowed;
    windowed.prefetch = 10;
    REQUIRE(broker->basic_consume("q", windowed, one.handler()).ok());
    REQUIRE(broker->basic_consume("q", windowed, two.handler()).ok());
    publish(*broker, "q", 6);
    CHECK(one.bodies() == std::vector<std::string>{"q0", "q2", "q4"});
    CHECK(two.bodies() == std::vector<std::string>{"q1", "q3", "q5"});

    Recorded unlimited;
    ConsumeOptions no_ack;
    no_ack.no_ack = true;
    no_ack.prefetch = 1;
    REQUIRE(broker->basic_consume("free", no_ack, unlimited.handler()).ok());
    publish(*broker, "free", 4);
    CHECK(unlimited.size() == 4);
    CHECK(broker->queue_stats("free")->messages_unacknowledged == 0);
}

TEST_CASE("exclusive consumer blocks others", "[broker]") {
    auto broker = broker_with({"q"});
    Recorded recorded;
    ConsumeOptions exclusive;
    exclusive.exclusive = true;
    exclusive.consumer_tag = "only";
    REQUIRE(broker->basic_consume("q", exclusive, recorded.handler()).ok());
    CHECK(broker->basic_consume("q", {}, recorded.handler()).error().code == Errc::access_refused);
    ConsumeOptions same_tag;
    same_tag.consumer_tag = "only";
    REQUIRE(broker->queue_declare("r", QueueOptions{}).ok());
    CHECK(broker->basic_consume("r", same_tag, recorded.handler()).error().code == Errc::in_use);
}

TEST_CASE("memory limit blocks and unblocks", "[broker]") {
    BrokerOptions options;
    options.memory_limit_bytes = 100;
    auto broker = broker_with({"q"}, options);
    std::vector<bool> changes;
    auto id =
        broker->add_blocked_listener([&changes](bool blocked) { changes.push_back(blocked); });
    REQUIRE(broker->basic_publish("", "q", body(std::string(60, 'a')), {}).ok());
    CHECK(changes.empty());
    REQUIRE(broker->basic_publish("", "q", body(std::string(60, 'b')), {}).ok());
    CHECK(changes == std::vector<bool>{true});
    CHECK(broker->broker_stats().blocked);
    CHECK(broker->broker_stats().message_bytes == 120);

    REQUIRE(broker->basic_get(0, "q", true)->has_value());
    CHECK(changes == std::vector<bool>{true, false});
    broker->remove_blocked_listener(id);
    REQUIRE(broker->basic_publish("", "q", body(std::string(60, 'c')), {}).ok());
    CHECK(changes.size() == 2);
}

TEST_CASE("consumers and sessions are listed with their owner", "[broker]") {
    auto broker = broker_with({"a", "b"});
    publish(*broker, "a", 3);
    auto session = broker->open_session("conn-1");
    REQUIRE(session.ok());
    REQUIRE(broker->basic_qos(*session, 2, false).ok());
    REQUIRE(broker->basic_qos(*session, 5, true).ok());
    Recorded recorded;
    ConsumeOptions consume;
    consume.session = *session;
    consume.consumer_tag = "tag-a";
    REQUIRE(broker->basic_consume("a", consume, recorded.handler()).ok());
    REQUIRE(broker->consume("b", 7, Recorded().handler()).ok());

    auto consumers = broker->list_consumers();
    REQUIRE(consumers.size() == 2);
    const auto& in_session = consumers[1].consumer_tag == "tag-a" ? consumers[1] : consumers[0];
    const auto& in_process = consumers[1].consumer_tag == "tag-a" ? consumers[0] : consumers[1];
    CHECK(in_session.queue == "a");
    CHECK(in_session.session == *session);
    CHECK(in_session.owner == "conn-1");
    CHECK(in_session.prefetch_count == 2);
    CHECK_FALSE(in_session.no_ack);
    CHECK(in_process.queue == "b");
    CHECK(in_process.session == 0);
    CHECK(in_process.owner.empty());
    CHECK(in_process.prefetch_count == 7);

    auto sessions = broker->list_sessions();
    REQUIRE(sessions.size() == 1);
    CHECK(sessions[0].id == *session);
    CHECK(sessions[0].owner == "conn-1");
    CHECK(sessions[0].messages_unacknowledged == 2);  // the consumer's window of 2
    CHECK(sessions[0].prefetch_count == 2);
    CHECK(sessions[0].global_prefetch_count == 5);
    CHECK(sessions[0].consumer_count == 1);

    REQUIRE(broker->close_session(*session).ok());
    CHECK(broker->list_sessions().empty());
    CHECK(broker->list_consumers().size() == 1);
}
