// SPDX-License-Identifier: MIT
// The rabbitmq-c client against the module's own AMQP listener over loopback, with the embedded
// broker behind it: queue work, prefetch, reconnects and stale delivery tags.
#include <boost/asio/executor_work_guard.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "imgbus/amqp/client.hpp"
#include "imgbus/amqp/server.hpp"

namespace {

using namespace imgbus;
using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

// An embedded broker behind an AMQP listener on a free loopback port, which can be stopped and
// started again on the same port.
struct Listener {
    Listener() {
        thread = std::thread([this] { io.run(); });
        start();
    }
    ~Listener() {
        server->stop();
        work.reset();
        io.stop();
        thread.join();
    }
    void start() {
        server = std::make_unique<amqp::Server>(
            io, *broker, amqp::ServerOptions{.port = port, .username = "u", .password = "p"});
        auto bound = server->start();
        REQUIRE(bound.ok());
        port = bound->port();
    }
    void stop() { server->stop(); }

    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    std::unique_ptr<broker::Broker> broker = broker::make_embedded_broker();
    std::unique_ptr<amqp::Server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

struct Received {
    std::mutex mutex;
    std::vector<broker::Delivery> deliveries;

    broker::DeliveryHandler handler() {
        return [this](broker::Delivery delivery) {
            std::lock_guard lock{mutex};
            deliveries.push_back(std::move(delivery));
        };
    }
    std::size_t size() {
        std::lock_guard lock{mutex};
        return deliveries.size();
    }
    broker::Delivery at(std::size_t i) {
        std::lock_guard lock{mutex};
        return deliveries.at(i);
    }
};

// The client, or nothing when this build has no rabbitmq-c.
std::unique_ptr<amqp::RemoteBroker> connect(Listener& listener, int* attempts = nullptr) {
    amqp::BrokerUrl url{
        .host = "127.0.0.1", .port = listener.port, .username = "u", .password = "p"};
    amqp::ClientOptions options;
    options.backoff = {20ms, 100ms};
    if (attempts != nullptr) options.on_reconnect_attempt = [attempts](int) { ++*attempts; };
    auto opened = amqp::open_remote_broker(url, options);
    if (!opened && opened.error().code == broker::Errc::not_supported) {
        WARN("built without rabbitmq-c: " << opened.error().message);
        return nullptr;
    }
    REQUIRE(opened.ok());
    REQUIRE((*opened)->wait_connected(10s));
    return std::move(*opened);
}

broker::Message message(const std::string& body) {
    broker::Message m;
    m.body = body;
    m.message_id = "id-" + body;
    m.headers.set("imgbus-attempt", std::int32_t{2});
    return m;
}

broker::QueueOptions small_queue() {
    broker::QueueOptions options;
    options.max_length_messages = 100;
    return options;
}

}  // namespace

TEST_CASE("remote broker publishes, consumes with prefetch and acks", "[amqp]") {
    Listener listener;
    auto client = connect(listener);
    if (!client) return;
    REQUIRE(client->declare_queue("t.work", small_queue()).ok());
    for (const char* body : {"a", "b", "c"}) REQUIRE(client->publish("t.work", message(body)).ok());
    CHECK(client->queue_stats("t.work")->messages_ready == 3);

    Received received;
    REQUIRE(client->consume("t.work", 2, received.handler()).ok());
    REQUIRE(eventually([&] { return received.size() == 2; }));
    std::this_thread::sleep_for(100ms);
    CHECK(received.size() == 2);  // prefetch 2: the third waits for an ack
    CHECK(listener.broker->queue_stats("t.work")->messages_unacknowledged == 2);

    const auto first = received.at(0);
    CHECK(first.message.body == "a");
    CHECK(first.message.message_id == "id-a");
    CHECK(first.message.persistent);
    CHECK(first.message.published_at.time_since_epoch().count() != 0);
    const auto* attempt = first.message.headers.find("imgbus-attempt");
    REQUIRE(attempt != nullptr);
    CHECK(std::get<std::int32_t>(attempt->value) == 2);

    REQUIRE(client->ack(first.delivery_tag).ok());
    REQUIRE(eventually([&] { return received.size() == 3; }));
    REQUIRE(client->ack(received.at(1).delivery_tag).ok());
    REQUIRE(client->nack(received.at(2).delivery_tag, false).ok());
    REQUIRE(eventually([&] {
        auto stats = listener.broker->queue_stats("t.work");
        return stats->messages_ready == 0 && stats->messages_unacknowledged == 0;
    }));
}

TEST_CASE("remote broker maps broker errors", "[amqp]") {
    Listener listener;
    auto client = connect(listener);
    if (!client) return;
    auto missing = client->queue_stats("t.absent");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == broker::Errc::queue_not_found);

    REQUIRE(client->declare_queue("t.limits", small_queue()).ok());
    auto other = small_queue();
    other.max_length_messages = 7;
    auto mismatch = client->declare_queue("t.limits", other);
    REQUIRE_FALSE(mismatch.ok());
    CHECK(mismatch.error().code == broker::Errc::queue_exists_with_other_options);
    // The channel that carried the refused declare was opened again.
    CHECK(client->queue_stats("t.limits").ok());
    CHECK(client->connected());
}

TEST_CASE("remote broker reconnects and consumes again", "[amqp]") {
    Listener listener;
    int attempts = 0;
    auto client = connect(listener, &attempts);
    if (!client) return;
    REQUIRE(client->declare_queue("t.again", small_queue()).ok());
    Received received;
    REQUIRE(client->consume("t.again", 1, received.handler()).ok());
    REQUIRE(client->publish("t.again", message("before")).ok());
    REQUIRE(eventually([&] { return received.size() == 1; }));
    const auto stale = received.at(0);

    listener.stop();
    REQUIRE(eventually([&] { return !client->connected(); }));
    auto refused = client->publish("t.again", message("during"));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == broker::Errc::unavailable);

    listener.start();
    REQUIRE(client->wait_connected(10s));
    CHECK(attempts >= 1);

    // The unacked message comes back on the new connection; the old tag is not acked there.
    REQUIRE(eventually([&] { return received.size() == 2; }));
    const auto again = received.at(1);
    CHECK(again.message.body == "before");
    CHECK(again.redelivered);
    auto late = client->ack(stale.delivery_tag);
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().code == broker::Errc::unavailable);
    CHECK(listener.broker->queue_stats("t.again")->messages_unacknowledged == 1);

    REQUIRE(client->ack(again.delivery_tag).ok());
    REQUIRE(client->publish("t.again", message("after")).ok());
    REQUIRE(eventually([&] { return received.size() == 3; }));
    CHECK(received.at(2).message.body == "after");
}

TEST_CASE("queues and consumers noted before the first connection are set up on it", "[amqp]") {
    Listener listener;
    listener.stop();  // the port stays known; nothing listens until start()
    amqp::BrokerUrl url{
        .host = "127.0.0.1", .port = listener.port, .username = "u", .password = "p"};
    amqp::ClientOptions options;
    options.backoff = {20ms, 100ms};
    auto opened = amqp::open_remote_broker(url, options);
    if (!opened && opened.error().code == broker::Errc::not_supported) return;
    REQUIRE(opened.ok());
    auto& client = **opened;
    CHECK_FALSE(client.connected());
    REQUIRE(client.declare_queue("t.first", small_queue()).ok());
    // A later declare of the same queue while disconnected does not replace its options.
    REQUIRE(client.declare_queue("t.first", {}).ok());
    Received received;
    REQUIRE(client.consume("t.first", 1, received.handler()).ok());
    CHECK_FALSE(client.publish("t.first", message("early")).ok());

    listener.start();
    REQUIRE(client.wait_connected(10s));
    auto stats = listener.broker->queue_stats("t.first");
    REQUIRE(stats.ok());
    CHECK(stats->max_length_messages == 100);
    CHECK(stats->consumers == 1);
    REQUIRE(client.publish("t.first", message("late")).ok());
    REQUIRE(eventually([&] { return received.size() == 1; }));
    CHECK(received.at(0).message.body == "late");
}
