// SPDX-License-Identifier: MIT
#include "routing.hpp"

#include <catch2/catch.hpp>

#include "imgbus/broker/broker.hpp"
#include "test_support.hpp"

using namespace imgbus::broker;
using imgbus::broker::test::body;
using imgbus::broker::test::ready;

TEST_CASE("topic matching of * and #", "[broker]") {
    CHECK(topic_matches("a.b", "a.b"));
    CHECK_FALSE(topic_matches("a.b", "a.b.c"));
    CHECK(topic_matches("a.*", "a.b"));
    CHECK_FALSE(topic_matches("a.*", "a"));
    CHECK_FALSE(topic_matches("a.*", "a.b.c"));
    CHECK(topic_matches("#", ""));
    CHECK(topic_matches("#", "a"));
    CHECK(topic_matches("#", "a.b.c"));
    CHECK(topic_matches("a.#", "a"));
    CHECK(topic_matches("a.#", "a.b.c"));
    CHECK(topic_matches("a.#.b", "a.b"));
    CHECK(topic_matches("a.#.b", "a.x.y.b"));
    CHECK_FALSE(topic_matches("a.#.b", "a.x.y.c"));
    CHECK(topic_matches("#.b", "b"));
    CHECK(topic_matches("*.#", "a"));
    CHECK_FALSE(topic_matches("*.#", ""));  // "" has no words for '*' to take
    CHECK_FALSE(topic_matches("*", ""));
    CHECK_FALSE(topic_matches("*", "a."));  // two words, "a" and ""
    CHECK(topic_matches("a.*", "a."));
    CHECK(topic_matches("a..c", "a..c"));
    CHECK(topic_matches("a.*.c", "a..c"));
    CHECK_FALSE(topic_matches("a.*.c", "a.c"));
    CHECK(topic_matches("#.#.#", "x"));
    CHECK_FALSE(topic_matches("", "a"));
    CHECK(topic_matches("", ""));
}

TEST_CASE("headers x-match all and any", "[broker]") {
    FieldTable all{{"x-match", "all"}, {"format", "png"}, {"size", 2}};
    FieldTable any{{"x-match", "any"}, {"format", "png"}, {"size", 2}};
    FieldTable png_small{{"format", "png"}, {"size", 2}};
    FieldTable png_big{{"format", "png"}, {"size", 9}};
    CHECK(headers_match(all, png_small));
    CHECK_FALSE(headers_match(all, png_big));
    CHECK(headers_match(any, png_big));
    CHECK_FALSE(headers_match(any, FieldTable{{"format", "jpeg"}}));
}

namespace {

std::unique_ptr<Broker> broker_with_queues(std::initializer_list<const char*> names) {
    auto broker = make_embedded_broker();
    for (const char* name : names) {
        QueueOptions options;
        options.durable = false;
        REQUIRE(broker->queue_declare(name, options).ok());
    }
    return broker;
}

}  // namespace

TEST_CASE("direct, fanout and topic routing", "[broker]") {
    auto broker = broker_with_queues({"q1", "q2", "q3"});
    ExchangeOptions direct;
    REQUIRE(broker->exchange_declare("jobs.direct", direct).ok());
    ExchangeOptions fanout;
    fanout.type = ExchangeType::fanout;
    REQUIRE(broker->exchange_declare("jobs.fanout", fanout).ok());
    REQUIRE(broker->queue_bind("q1", "jobs.direct", "gray", {}).ok());
    REQUIRE(broker->queue_bind("q2", "jobs.direct", "blur", {}).ok());
    REQUIRE(broker->queue_bind("q1", "jobs.fanout", "", {}).ok());
    REQUIRE(broker->queue_bind("q3", "jobs.fanout", "", {}).ok());
    REQUIRE(broker->queue_bind("q2", "amq.topic", "img.*.png", {}).ok());
    REQUIRE(broker->queue_bind("q3", "amq.topic", "img.#", {}).ok());

    auto gray = broker->basic_publish("jobs.direct", "gray", body("g"), {});
    REQUIRE(gray.ok());
    CHECK(gray->routed_queues == 1);
    CHECK(broker->basic_publish("jobs.fanout", "ignored", body("f"), {})->routed_queues == 2);
    CHECK(broker->basic_publish("amq.topic", "img.small.png", body("t"), {})->routed_queues == 2);
    CHECK(broker->basic_publish("amq.topic", "img", body("t2"), {})->routed_queues == 1);
    CHECK(ready(*broker, "q1") == 2);
    CHECK(ready(*broker, "q2") == 1);
    CHECK(ready(*broker, "q3") == 3);

    // Unbinding stops the routing; a queue bound twice with matching keys gets one copy.
    REQUIRE(broker->queue_unbind("q1", "jobs.direct", "gray", {}).ok());
    CHECK(broker->basic_publish("jobs.direct", "gray", body("g2"), {})->unroutable());
    REQUIRE(broker->queue_bind("q3", "amq.topic", "img.big", {}).ok());
    CHECK(broker->basic_publish("amq.topic", "img.big", body("once"), {})->routed_queues == 1);
    CHECK(ready(*broker, "q3") == 4);
}

TEST_CASE("default exchange routes by name", "[broker]") {
    auto broker = broker_with_queues({"named"});
    auto routed = broker->basic_publish("", "named", body("m"), {});
    REQUIRE(routed.ok());
    CHECK(routed->routed_queues == 1);
    CHECK(broker->basic_publish("", "missing", body("m"), {})->unroutable());
    CHECK(broker->queue_bind("named", "", "x", {}).error().code == Errc::access_refused);
    CHECK(broker->exchange_delete("amq.direct", false).error().code == Errc::access_refused);
}

TEST_CASE("unroutable message reported and confirmed", "[broker]") {
    auto broker = broker_with_queues({});
    REQUIRE(broker->exchange_declare("lonely", {}).ok());
    PublishOptions options;
    options.mandatory = true;
    int confirms = 0;
    options.on_confirm = [&confirms](bool ack) { confirms += ack ? 1 : 100; };
    auto outcome = broker->basic_publish("lonely", "nowhere", body("m"), options);
    REQUIRE(outcome.ok());
    CHECK(outcome->unroutable());
    CHECK(confirms == 1);  // RabbitMQ confirms an unroutable message after returning it

    auto missing = broker->basic_publish("no-such-exchange", "k", body("m"), options);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == Errc::exchange_not_found);
    CHECK(confirms == 101);
}

TEST_CASE("exchange declare checks", "[broker]") {
    auto broker = broker_with_queues({"q"});
    REQUIRE(broker->exchange_declare("x", {}).ok());
    ExchangeOptions topic;
    topic.type = ExchangeType::topic;
    auto clash = broker->exchange_declare("x", topic);
    REQUIRE_FALSE(clash.ok());
    CHECK(clash.error().code == Errc::exchange_exists_with_other_options);
    CHECK_THAT(clash.error().message, Catch::Contains("type = direct (requested topic)"));

    ExchangeOptions passive;
    passive.passive = true;
    CHECK(broker->exchange_declare("x", passive).ok());
    CHECK(broker->exchange_declare("y", passive).error().code == Errc::exchange_not_found);
    CHECK(broker->exchange_declare("amq.mine", {}).error().code == Errc::access_refused);
    CHECK(parse_exchange_type("x-delayed").error().code == Errc::not_supported);

    REQUIRE(broker->queue_bind("q", "x", "k", {}).ok());
    CHECK(broker->exchange_delete("x", true).error().code == Errc::in_use);
    CHECK(broker->exchange_delete("x", false).ok());
    CHECK(broker->basic_publish("x", "k", body("m"), {}).error().code == Errc::exchange_not_found);
}
