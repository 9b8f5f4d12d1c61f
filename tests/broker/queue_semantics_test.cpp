// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "imgbus/broker/broker.hpp"
#include "test_support.hpp"

using namespace imgbus::broker;
using namespace std::chrono_literals;
using imgbus::broker::test::body;
using imgbus::broker::test::ready;
using imgbus::broker::test::Recorded;
using imgbus::broker::test::wait_until;

namespace {

QueueOptions with_args(FieldTable arguments) {
    QueueOptions options;
    options.durable = false;
    options.arguments = std::move(arguments);
    return options;
}

// A broker with a fanout dead-letter exchange "dlx" feeding the queue "dead".
std::unique_ptr<Broker> broker_with_dlx() {
    BrokerOptions options;
    options.expiry_sweep_interval = 5ms;
    auto broker = open_embedded_broker(options);
    REQUIRE(broker.ok());
    ExchangeOptions fanout;
    fanout.type = ExchangeType::fanout;
    REQUIRE((*broker)->exchange_declare("dlx", fanout).ok());
    REQUIRE((*broker)->queue_declare("dead", with_args({})).ok());
    REQUIRE((*broker)->queue_bind("dead", "dlx", "", {}).ok());
    return std::move(*broker);
}

const FieldTable& first_death(const Delivery& delivery) {
    const FieldValue* deaths = delivery.message.headers.find("x-death");
    REQUIRE(deaths != nullptr);
    const auto& array = std::get<FieldArray>(deaths->value);
    REQUIRE_FALSE(array.empty());
    return std::get<FieldTable>(array.front().value);
}

std::optional<GetOk> get(Broker& broker, const std::string& queue) {
    auto got = broker.basic_get(0, queue, true);
    REQUIRE(got.ok());
    return *got;
}

}  // namespace

TEST_CASE("x-message-ttl dead-letters as expired", "[broker]") {
    auto broker = broker_with_dlx();
    REQUIRE(broker
                ->queue_declare("short", with_args({{"x-message-ttl", std::int32_t{20}},
                                                    {"x-dead-letter-exchange", "dlx"}}))
                .ok());
    REQUIRE(broker->basic_publish("", "short", body("old"), {})->routed_queues == 1);
    CHECK(ready(*broker, "short") == 1);

    // The sweep expires it while no consumer is attached.
    REQUIRE(wait_until([&] { return ready(*broker, "dead") == 1; }, 2s));
    CHECK(ready(*broker, "short") == 0);
    CHECK(broker->queue_stats("short")->expired_total == 1);
    auto dead = get(*broker, "dead");
    REQUIRE(dead);
    const FieldTable& death = first_death(dead->delivery);
    CHECK(*death.find("reason") == FieldValue("expired"));
    CHECK(*death.find("queue") == FieldValue("short"));
    CHECK(*death.find("count") == FieldValue(std::int64_t{1}));
    CHECK(*death.find("exchange") == FieldValue(""));
    CHECK(*death.find("routing-keys") == FieldValue(FieldArray{FieldValue("short")}));
    CHECK(std::holds_alternative<Timestamp>(death.find("time")->value));
    CHECK(*dead->delivery.message.headers.find("x-first-death-reason") == FieldValue("expired"));
}

TEST_CASE("per-message expiration and bad values", "[broker]") {
    auto broker = broker_with_dlx();
    REQUIRE(broker->queue_declare("q", with_args({{"x-dead-letter-exchange", "dlx"}})).ok());
    Message brief = body("brief");
    brief.expiration = "10";
    REQUIRE(broker->basic_publish("", "q", brief, {}).ok());
    REQUIRE(broker->basic_publish("", "q", body("lasting"), {}).ok());
    REQUIRE(wait_until([&] { return ready(*broker, "dead") == 1; }, 2s));
    auto dead = get(*broker, "dead");
    REQUIRE(dead);
    CHECK(dead->delivery.message.expiration.empty());
    CHECK(*first_death(dead->delivery).find("original-expiration") == FieldValue("10"));
    CHECK(get(*broker, "q")->delivery.message.body == "lasting");

    Message bad = body("bad");
    bad.expiration = "soon";
    auto refused = broker->basic_publish("", "q", bad, {});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == Errc::invalid_argument);
    CHECK_THAT(refused.error().message, Catch::Contains("'soon'"));
}

TEST_CASE("reject dead-letters with routing key", "[broker]") {
    auto broker = broker_with_dlx();
    REQUIRE(broker->exchange_declare("retry", {}).ok());
    REQUIRE(broker->queue_declare("parked", with_args({})).ok());
    REQUIRE(broker->queue_bind("parked", "retry", "park", {}).ok());
    REQUIRE(broker
                ->queue_declare("work", with_args({{"x-dead-letter-exchange", "retry"},
                                                   {"x-dead-letter-routing-key", "park"}}))
                .ok());
    REQUIRE(broker->basic_publish("", "work", body("job"), {}).ok());
    auto session = broker->open_session("conn-1");
    REQUIRE(session.ok());
    auto got = broker->basic_get(*session, "work", false);
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    REQUIRE(broker->basic_reject(*session, (*got)->delivery.delivery_tag, false).ok());

    auto parked = get(*broker, "parked");
    REQUIRE(parked);
    CHECK(parked->delivery.exchange == "retry");
    CHECK(parked->delivery.routing_key == "park");
    CHECK(*first_death(parked->delivery).find("reason") == FieldValue("rejected"));
    CHECK(broker->queue_stats("work")->dead_lettered_total == 1);
}

TEST_CASE("drop-head dead-letters as maxlen", "[broker]") {
    auto broker = broker_with_dlx();
    REQUIRE(broker
                ->queue_declare("bounded", with_args({{"x-max-length", std::int16_t{2}},
                                                      {"x-overflow", "drop-head"},
                                                      {"x-dead-letter-exchange", "dlx"}}))
                .ok());
    for (const char* name : {"a", "b", "c"}) {
        REQUIRE(broker->basic_publish("", "bounded", body(name), {})->routed_queues == 1);
    }
    CHECK(ready(*broker, "bounded") == 2);
    auto dead = get(*broker, "dead");
    REQUIRE(dead);
    CHECK(dead->delivery.message.body == "a");
    CHECK(*first_death(dead->delivery).find("reason") == FieldValue("maxlen"));
}

TEST_CASE("max-length-bytes rejects and nacks", "[broker]") {
    auto broker = make_embedded_broker();
    REQUIRE(broker
                ->queue_declare("small", with_args({{"x-max-length-bytes", std::int64_t{10}},
                                                    {"x-overflow", "reject-publish"}}))
                .ok());
    PublishOptions confirm;
    std::vector<bool> acks;
    confirm.on_confirm = [&acks](bool ack) { acks.push_back(ack); };
    REQUIRE(broker->basic_publish("", "small", body("123456"), confirm)->routed_queues == 1);
    auto refused = broker->basic_publish("", "small", body("7890a"), confirm);
    REQUIRE(refused.ok());
    CHECK(refused->rejected_queues == 1);
    CHECK(acks == std::vector<bool>{true, false});
    CHECK(broker->queue_stats("small")->message_bytes_ready == 6);
    CHECK(broker->queue_stats("small")->rejected_publish_total == 1);
}

TEST_CASE("priority order, FIFO within level", "[broker]") {
    auto broker = make_embedded_broker();
    REQUIRE(broker->queue_declare("prio", with_args({{"x-max-priority", std::uint8_t{5}}})).ok());
    const std::pair<const char*, int> messages[] = {
        {"low1", 1}, {"high1", 5}, {"none", -1}, {"high2", 9}, {"low2", 1}};
    for (const auto& [name, priority] : messages) {
        Message message = body(name);
        if (priority >= 0) message.priority = static_cast<std::uint8_t>(priority);
        REQUIRE(broker->basic_publish("", "prio", message, {}).ok());
    }
    std::vector<std::string> order;
    while (auto next = get(*broker, "prio")) order.push_back(next->delivery.message.body);
    // Priority 9 is capped at the queue's maximum 5, so it queues behind high1.
    CHECK(order == std::vector<std::string>{"high1", "high2", "low1", "low2", "none"});
}

TEST_CASE("declare checks arguments and passive", "[broker]") {
    auto broker = make_embedded_broker();
    REQUIRE(broker->queue_declare("q", with_args({{"x-message-ttl", std::int32_t{1000}}})).ok());

    auto clash = broker->queue_declare("q", with_args({{"x-message-ttl", std::int32_t{2000}}}));
    REQUIRE_FALSE(clash.ok());
    CHECK(clash.error().code == Errc::queue_exists_with_other_options);
    CHECK_THAT(clash.error().message, Catch::Contains("x-message-ttl = 1000 (requested 2000)"));

    auto bad = broker->queue_declare("r", with_args({{"x-overflow", "drop-tail"}}));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == Errc::invalid_argument);
    CHECK_THAT(bad.error().message, Catch::Contains("'x-overflow' 'drop-tail'"));
    CHECK(broker->queue_declare("r", with_args({{"x-message-ttl", "ten"}})).error().code ==
          Errc::invalid_argument);
    CHECK(broker->queue_declare("r", with_args({{"x-expires", 5}})).error().code ==
          Errc::invalid_argument);

    QueueOptions passive = with_args({});
    passive.passive = true;
    auto missing = broker->queue_declare("nowhere", passive);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == Errc::queue_not_found);
    REQUIRE(broker->basic_publish("", "q", body("m"), {}).ok());
    auto found = broker->queue_declare("q", passive);
    REQUIRE(found.ok());
    CHECK(found->message_count == 1);
    CHECK(broker->queue_declare("amq.q", with_args({})).error().code == Errc::access_refused);
}

TEST_CASE("server-named queues are distinct", "[broker]") {
    auto broker = make_embedded_broker();
    auto first = broker->queue_declare("", with_args({}));
    auto second = broker->queue_declare("", with_args({}));
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(first->queue.starts_with("amq.gen-"));
    CHECK(first->queue != second->queue);
    CHECK(broker->queue_stats(first->queue).ok());
}

TEST_CASE("exclusive queue belongs to owner", "[broker]") {
    auto broker = make_embedded_broker();
    QueueOptions exclusive = with_args({});
    exclusive.exclusive = true;
    exclusive.owner = "conn-a";
    REQUIRE(broker->queue_declare("mine", exclusive).ok());

    QueueOptions other = exclusive;
    other.owner = "conn-b";
    CHECK(broker->queue_declare("mine", other).error().code == Errc::resource_locked);
    auto session_b = broker->open_session("conn-b");
    Recorded recorded;
    ConsumeOptions consume;
    consume.session = *session_b;
    CHECK(broker->basic_consume("mine", consume, recorded.handler()).error().code ==
          Errc::resource_locked);

    broker->release_owner("conn-a");
    CHECK(broker->queue_stats("mine").error().code == Errc::queue_not_found);
}

TEST_CASE("auto-delete after last consumer", "[broker]") {
    auto broker = make_embedded_broker();
    QueueOptions options = with_args({});
    options.auto_delete = true;
    REQUIRE(broker->queue_declare("temp", options).ok());
    Recorded recorded;
    auto one = broker->basic_consume("temp", {}, recorded.handler());
    auto two = broker->basic_consume("temp", {}, recorded.handler());
    REQUIRE(one.ok());
    REQUIRE(two.ok());
    REQUIRE(broker->cancel(*one).ok());
    CHECK(broker->queue_stats("temp").ok());
    REQUIRE(broker->cancel(*two).ok());
    CHECK(broker->queue_stats("temp").error().code == Errc::queue_not_found);
}

TEST_CASE("delete with if-unused and if-empty", "[broker]") {
    auto broker = make_embedded_broker();
    REQUIRE(broker->queue_declare("q", with_args({})).ok());
    REQUIRE(broker->basic_publish("", "q", body("m"), {}).ok());
    DeleteOptions if_empty;
    if_empty.if_empty = true;
    CHECK(broker->queue_delete("q", if_empty).error().code == Errc::not_empty);

    Recorded recorded;
    std::vector<std::string> cancelled;
    ConsumeOptions consume;
    consume.on_cancelled = [&cancelled](const std::string& tag) { cancelled.push_back(tag); };
    auto tag = broker->basic_consume("q", consume, recorded.handler());
    REQUIRE(tag.ok());
    DeleteOptions if_unused;
    if_unused.if_unused = true;
    CHECK(broker->queue_delete("q", if_unused).error().code == Errc::in_use);
    auto deleted = broker->queue_delete("q", {});
    REQUIRE(deleted.ok());
    CHECK(*deleted == 0);  // the message was with the consumer, unacked
    CHECK(cancelled == std::vector<std::string>{*tag});
}

TEST_CASE("multiple nack dead-letters in order", "[broker]") {
    auto broker = broker_with_dlx();
    REQUIRE(broker->queue_declare("work", with_args({{"x-dead-letter-exchange", "dlx"}})).ok());
    for (const char* name : {"first", "second", "third"}) {
        REQUIRE(broker->basic_publish("", "work", body(name), {}).ok());
    }
    auto session = broker->open_session("conn");
    REQUIRE(session.ok());
    std::uint64_t last_tag = 0;
    for (int i = 0; i < 3; ++i) {
        auto got = broker->basic_get(*session, "work", false);
        REQUIRE(got.ok());
        REQUIRE(got->has_value());
        last_tag = (*got)->delivery.delivery_tag;
    }
    REQUIRE(broker->basic_nack(*session, last_tag, true, false).ok());
    std::vector<std::string> order;
    while (auto next = get(*broker, "dead")) order.push_back(next->delivery.message.body);
    CHECK(order == std::vector<std::string>{"first", "second", "third"});
}
