// SPDX-License-Identifier: MIT
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "imgbus/broker/broker.hpp"

using imgbus::broker::Broker;
using imgbus::broker::Delivery;
using imgbus::broker::Errc;
using imgbus::broker::Message;
using imgbus::broker::Overflow;
using imgbus::broker::QueueOptions;

namespace {

// Records every delivery a consumer receives, in order.
class Recorder {
  public:
    imgbus::broker::DeliveryHandler handler() {
        return [this](Delivery delivery) {
            std::lock_guard lock(mutex_);
            deliveries_.push_back(std::move(delivery));
        };
    }

    std::vector<Delivery> deliveries() {
        std::lock_guard lock(mutex_);
        return deliveries_;
    }

    std::size_t size() {
        std::lock_guard lock(mutex_);
        return deliveries_.size();
    }

  private:
    std::mutex mutex_;
    std::vector<Delivery> deliveries_;
};

Message text(const std::string& body) {
    Message message;
    message.body = body;
    message.message_id = body;
    return message;
}

std::unique_ptr<Broker> broker_with(const std::string& queue, QueueOptions options = {}) {
    auto broker = imgbus::broker::make_embedded_broker();
    REQUIRE(broker->declare_queue(queue, options).ok());
    return broker;
}

// Builds "<prefix><number>". Appending in place also avoids GCC 12's false -Wrestrict warning
// on operator+ of a literal and a temporary string.
std::string numbered(const std::string& prefix, int number) {
    std::string name = prefix;
    name += std::to_string(number);
    return name;
}

void publish_all(Broker& broker, const std::string& queue, int count) {
    for (int i = 0; i < count; ++i) {
        REQUIRE(broker.publish(queue, text(numbered("m", i))).ok());
    }
}

}  // namespace

TEST_CASE("publish then consume delivers in order", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 3);
    Recorder recorder;
    auto tag = broker->consume("jobs", 0, recorder.handler());
    REQUIRE(tag.ok());

    auto got = recorder.deliveries();
    REQUIRE(got.size() == 3);
    CHECK(got[0].message.body == "m0");
    CHECK(got[1].message.body == "m1");
    CHECK(got[2].message.body == "m2");
    CHECK(got[0].queue == "jobs");
    CHECK(got[0].consumer_tag == *tag);
    CHECK_FALSE(got[0].redelivered);
    CHECK(got[0].message.published_at.time_since_epoch().count() != 0);
    CHECK(got[0].delivery_tag < got[1].delivery_tag);
}

TEST_CASE("prefetch limits unacked deliveries", "[broker]") {
    auto broker = broker_with("jobs");
    Recorder recorder;
    REQUIRE(broker->consume("jobs", 2, recorder.handler()).ok());
    publish_all(*broker, "jobs", 5);

    REQUIRE(recorder.size() == 2);
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 3);
    CHECK(stats->messages_unacknowledged == 2);

    for (std::size_t acked = 0; acked < 5; ++acked) {
        auto got = recorder.deliveries();
        REQUIRE(got.size() - acked <= 2);
        REQUIRE(broker->ack(got[acked].delivery_tag).ok());
    }
    CHECK(recorder.size() == 5);
}

TEST_CASE("round robin among consumers with room", "[broker]") {
    auto broker = broker_with("jobs");
    Recorder first;
    Recorder second;
    REQUIRE(broker->consume("jobs", 0, first.handler()).ok());
    REQUIRE(broker->consume("jobs", 0, second.handler()).ok());
    publish_all(*broker, "jobs", 6);

    auto a = first.deliveries();
    auto b = second.deliveries();
    REQUIRE(a.size() == 3);
    REQUIRE(b.size() == 3);
    CHECK(a[0].message.body == "m0");
    CHECK(b[0].message.body == "m1");
    CHECK(a[1].message.body == "m2");
}

TEST_CASE("round robin skips a consumer without room", "[broker]") {
    auto broker = broker_with("jobs");
    Recorder full;
    Recorder open;
    REQUIRE(broker->consume("jobs", 1, full.handler()).ok());
    REQUIRE(broker->consume("jobs", 0, open.handler()).ok());
    publish_all(*broker, "jobs", 4);

    CHECK(full.size() == 1);
    CHECK(open.size() == 3);
}

TEST_CASE("nack with requeue sets redelivered and returns to head", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 3);
    Recorder recorder;
    REQUIRE(broker->consume("jobs", 1, recorder.handler()).ok());
    auto first = recorder.deliveries().at(0);
    REQUIRE(first.message.body == "m0");

    REQUIRE(broker->nack(first.delivery_tag, true).ok());
    auto got = recorder.deliveries();
    REQUIRE(got.size() == 2);
    CHECK(got[1].message.body == "m0");
    CHECK(got[1].redelivered);
    CHECK(got[1].delivery_tag != first.delivery_tag);

    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->nacked_total == 1);
    CHECK(stats->redelivered_total == 1);
    CHECK(stats->messages_ready == 2);
}

TEST_CASE("reject without requeue drops the message", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 2);
    Recorder recorder;
    REQUIRE(broker->consume("jobs", 1, recorder.handler()).ok());
    auto first = recorder.deliveries().at(0);

    REQUIRE(broker->reject(first.delivery_tag, false).ok());
    auto got = recorder.deliveries();
    REQUIRE(got.size() == 2);
    CHECK(got[1].message.body == "m1");
    CHECK_FALSE(got[1].redelivered);
    REQUIRE(broker->ack(got[1].delivery_tag).ok());

    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->nacked_total == 1);
    CHECK(stats->acked_total == 1);
    CHECK(stats->messages_ready == 0);
    CHECK(stats->messages_unacknowledged == 0);
    CHECK(recorder.size() == 2);
}

TEST_CASE("settled delivery tags are unknown", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 1);
    Recorder recorder;
    REQUIRE(broker->consume("jobs", 0, recorder.handler()).ok());
    auto tag = recorder.deliveries().at(0).delivery_tag;
    REQUIRE(broker->ack(tag).ok());

    auto again = broker->ack(tag);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == Errc::unknown_delivery_tag);
    CHECK_THAT(again.error().message, Catch::Contains(std::to_string(tag)));
    CHECK(broker->nack(tag, true).error().code == Errc::unknown_delivery_tag);
    CHECK(broker->reject(999'999, false).error().code == Errc::unknown_delivery_tag);
}

TEST_CASE("cancel requeues unacked messages", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 3);
    Recorder leaving;
    auto tag = broker->consume("jobs", 2, leaving.handler());
    REQUIRE(tag.ok());
    REQUIRE(leaving.size() == 2);

    REQUIRE(broker->cancel(*tag).ok());
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 3);
    CHECK(stats->messages_unacknowledged == 0);
    CHECK(stats->consumers == 0);
    CHECK(broker->ack(leaving.deliveries()[0].delivery_tag).error().code ==
          Errc::unknown_delivery_tag);

    Recorder staying;
    REQUIRE(broker->consume("jobs", 0, staying.handler()).ok());
    auto got = staying.deliveries();
    REQUIRE(got.size() == 3);
    CHECK(got[0].message.body == "m0");
    CHECK(got[0].redelivered);
    CHECK(got[1].message.body == "m1");
    CHECK(got[1].redelivered);
    CHECK(got[2].message.body == "m2");
    CHECK_FALSE(got[2].redelivered);
    CHECK(leaving.size() == 2);

    CHECK(broker->cancel(*tag).error().code == Errc::consumer_not_found);
}

TEST_CASE("purge removes ready messages only", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 5);
    Recorder recorder;
    REQUIRE(broker->consume("jobs", 2, recorder.handler()).ok());

    auto purged = broker->purge("jobs");
    REQUIRE(purged.ok());
    CHECK(*purged == 3);
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 0);
    CHECK(stats->messages_unacknowledged == 2);
    CHECK(stats->dropped_total == 3);
    CHECK(broker->ack(recorder.deliveries()[0].delivery_tag).ok());
}

TEST_CASE("full queue rejects publish until there is room", "[broker]") {
    QueueOptions options;
    options.max_length_messages = 2;
    auto broker = broker_with("jobs", options);
    publish_all(*broker, "jobs", 2);

    auto refused = broker->publish("jobs", text("m2"));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == Errc::queue_full);
    CHECK_THAT(refused.error().message, Catch::Contains("'jobs'"));
    CHECK_THAT(refused.error().message, Catch::Contains("2"));

    Recorder recorder;
    REQUIRE(broker->consume("jobs", 1, recorder.handler()).ok());
    REQUIRE(broker->ack(recorder.deliveries().at(0).delivery_tag).ok());
    // m0 is acked and m1 is delivered, so the queue has room for two more.
    REQUIRE(broker->publish("jobs", text("m2")).ok());
    REQUIRE(broker->publish("jobs", text("m3")).ok());
    CHECK(broker->publish("jobs", text("m4")).error().code == Errc::queue_full);

    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->rejected_publish_total == 2);
    CHECK(stats->published_total == 4);
    CHECK(stats->messages_ready == 2);
    CHECK(stats->messages_unacknowledged == 1);
}

TEST_CASE("drop_head drops the oldest ready message", "[broker]") {
    QueueOptions options;
    options.max_length_messages = 2;
    options.overflow = Overflow::drop_head;
    auto broker = broker_with("events", options);
    publish_all(*broker, "events", 4);

    auto stats = broker->queue_stats("events");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 2);
    CHECK(stats->dropped_total == 2);
    CHECK(stats->rejected_publish_total == 0);

    Recorder recorder;
    REQUIRE(broker->consume("events", 0, recorder.handler()).ok());
    auto got = recorder.deliveries();
    REQUIRE(got.size() == 2);
    CHECK(got[0].message.body == "m2");
    CHECK(got[1].message.body == "m3");
}

TEST_CASE("declare compares options of an existing queue", "[broker]") {
    auto broker = broker_with("jobs");
    CHECK(broker->declare_queue("jobs", QueueOptions{}).ok());

    QueueOptions other;
    other.max_length_messages = 5;
    auto clash = broker->declare_queue("jobs", other);
    REQUIRE_FALSE(clash.ok());
    CHECK(clash.error().code == Errc::queue_exists_with_other_options);
    CHECK_THAT(clash.error().message,
               Catch::Contains("x-max-length (max_length_messages) = 10000 (requested 5)"));

    QueueOptions dropping;
    dropping.overflow = Overflow::drop_head;
    CHECK(broker->declare_queue("jobs", dropping).error().code ==
          Errc::queue_exists_with_other_options);
}

TEST_CASE("invalid queue arguments are rejected", "[broker]") {
    auto broker = imgbus::broker::make_embedded_broker();
    CHECK(broker->declare_queue("", {}).error().code == Errc::invalid_argument);
    CHECK(broker->declare_queue(std::string(256, 'q'), {}).error().code == Errc::invalid_argument);
    QueueOptions zero;
    zero.max_length_messages = 0;
    auto refused = broker->declare_queue("jobs", zero);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == Errc::invalid_argument);
    CHECK_THAT(refused.error().message, Catch::Contains("max_length_messages 0"));

    REQUIRE(broker->declare_queue("jobs", {}).ok());
    CHECK(broker->consume("jobs", 1, nullptr).error().code == Errc::invalid_argument);
    CHECK(broker->publish("nope", text("x")).error().code == Errc::queue_not_found);
    CHECK(broker->consume("nope", 1, [](Delivery) {}).error().code == Errc::queue_not_found);
    CHECK(broker->purge("nope").error().code == Errc::queue_not_found);
    CHECK(broker->queue_stats("nope").error().code == Errc::queue_not_found);
    CHECK(broker->delete_queue("nope").error().code == Errc::queue_not_found);
}

TEST_CASE("delete_queue fails later acks cleanly", "[broker]") {
    auto broker = broker_with("jobs");
    publish_all(*broker, "jobs", 3);
    Recorder recorder;
    auto tag = broker->consume("jobs", 1, recorder.handler());
    REQUIRE(tag.ok());
    auto delivery = recorder.deliveries().at(0);

    REQUIRE(broker->delete_queue("jobs").ok());
    CHECK(broker->ack(delivery.delivery_tag).error().code == Errc::unknown_delivery_tag);
    CHECK(broker->cancel(*tag).error().code == Errc::consumer_not_found);
    CHECK(broker->list_queues().empty());

    REQUIRE(broker->declare_queue("jobs", {}).ok());
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 0);
    CHECK(stats->published_total == 0);
}

TEST_CASE("stats count every transition", "[broker]") {
    auto broker = broker_with("jobs");
    REQUIRE(broker->declare_queue("other", {}).ok());
    publish_all(*broker, "jobs", 4);
    Recorder recorder;
    REQUIRE(broker->consume("jobs", 3, recorder.handler()).ok());
    auto got = recorder.deliveries();
    REQUIRE(got.size() == 3);
    REQUIRE(broker->ack(got[0].delivery_tag).ok());
    REQUIRE(broker->nack(got[1].delivery_tag, true).ok());
    REQUIRE(broker->reject(got[2].delivery_tag, false).ok());

    auto all = broker->list_queues();
    REQUIRE(all.size() == 2);
    const auto& stats = all[0];
    CHECK(stats.name == "jobs");
    CHECK(all[1].name == "other");
    CHECK(stats.durable);
    CHECK(stats.max_length_messages == 10'000);
    CHECK(stats.consumers == 1);
    CHECK(stats.published_total == 4);
    // m0 acked, m1 redelivered, m2 dropped by reject, m3 delivered.
    CHECK(stats.delivered_total == 5);
    CHECK(stats.acked_total == 1);
    CHECK(stats.nacked_total == 2);
    CHECK(stats.redelivered_total == 1);
    CHECK(stats.messages_ready == 0);
    CHECK(stats.messages_unacknowledged == 2);
    CHECK(stats.dropped_total == 0);
}

TEST_CASE("handler may ack inside the callback", "[broker]") {
    auto broker = broker_with("jobs");
    std::vector<std::string> seen;
    Broker* raw = broker.get();
    REQUIRE(broker
                ->consume("jobs", 1,
                          [&](Delivery delivery) {
                              seen.push_back(delivery.message.body);
                              REQUIRE(raw->ack(delivery.delivery_tag).ok());
                          })
                .ok());
    publish_all(*broker, "jobs", 5);

    REQUIRE(seen.size() == 5);
    CHECK(seen[4] == "m4");
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->acked_total == 5);
    CHECK(stats->messages_unacknowledged == 0);
}

TEST_CASE("handler may publish and cancel inside the callback", "[broker]") {
    auto broker = broker_with("jobs");
    REQUIRE(broker->declare_queue("results", {}).ok());
    Broker* raw = broker.get();
    Recorder results;
    REQUIRE(broker->consume("results", 0, results.handler()).ok());
    int calls = 0;
    REQUIRE(
        broker
            ->consume("jobs", 0,
                      [&](Delivery delivery) {
                          ++calls;
                          REQUIRE(
                              raw->publish("results", text("done " + delivery.message.body)).ok());
                          REQUIRE(raw->ack(delivery.delivery_tag).ok());
                          REQUIRE(raw->cancel(delivery.consumer_tag).ok());
                      })
            .ok());
    publish_all(*broker, "jobs", 3);

    CHECK(calls == 1);
    REQUIRE(results.size() == 1);
    CHECK(results.deliveries()[0].message.body == "done m0");
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 2);
    CHECK(stats->consumers == 0);
}

TEST_CASE("concurrent publish consume ack delivers each once", "[broker]") {
    constexpr int kPublishers = 3;
    constexpr int kPerPublisher = 4000;
    constexpr int kTotal = kPublishers * kPerPublisher;
    QueueOptions options;
    options.max_length_messages = 500;
    auto broker = broker_with("jobs", options);
    Broker* raw = broker.get();

    std::mutex mutex;
    std::multiset<std::string> acked;
    std::atomic<int> acked_count{0};
    std::atomic<int> overlapping{0};
    std::atomic<int> out_of_order{0};
    std::atomic<int> failures{0};
    std::vector<std::uint64_t> handed_off;  // tags for the acker thread, guarded by mutex

    auto record_and_ack = [&](const Delivery& delivery) {
        {
            std::lock_guard lock(mutex);
            acked.insert(delivery.message.message_id);
        }
        if (!raw->ack(delivery.delivery_tag).ok()) {
            ++failures;
        }
        ++acked_count;
    };

    // Consumers 0 and 1 settle inside the handler: every 7th first delivery goes back with
    // requeue, the rest are acked. Consumer 2 hands its deliveries to the acker thread.
    for (int c = 0; c < 3; ++c) {
        auto busy = std::make_shared<std::atomic<bool>>(false);
        auto last_tag = std::make_shared<std::uint64_t>(0);  // written only inside the handler
        auto tag = broker->consume("jobs", 4, [&, c, busy, last_tag](Delivery delivery) {
            if (busy->exchange(true)) {
                ++overlapping;
            }
            if (delivery.delivery_tag <= *last_tag) {
                ++out_of_order;
            }
            *last_tag = delivery.delivery_tag;
            if (c == 2) {
                {
                    std::lock_guard lock(mutex);
                    acked.insert(delivery.message.message_id);
                    handed_off.push_back(delivery.delivery_tag);
                }
                busy->store(false);
                return;
            }
            busy->store(false);
            if (!delivery.redelivered && delivery.delivery_tag % 7 == 0) {
                if (!raw->nack(delivery.delivery_tag, true).ok()) {
                    ++failures;
                }
                return;
            }
            record_and_ack(delivery);
        });
        REQUIRE(tag.ok());
    }

    std::atomic<bool> publishing{true};
    std::thread acker([&] {
        while (publishing || acked_count < kTotal) {
            std::vector<std::uint64_t> batch;
            {
                std::lock_guard lock(mutex);
                batch.swap(handed_off);
            }
            for (std::uint64_t tag : batch) {
                if (!raw->ack(tag).ok()) {
                    ++failures;
                }
                ++acked_count;
            }
            if (batch.empty()) {
                std::this_thread::yield();
            }
        }
    });

    std::vector<std::thread> publishers;
    std::atomic<int> refused{0};
    for (int p = 0; p < kPublishers; ++p) {
        publishers.emplace_back([&, p] {
            for (int i = 0; i < kPerPublisher; ++i) {
                Message message = text(numbered(numbered("", p) + "-", i));
                for (;;) {
                    auto published = raw->publish("jobs", message);
                    if (published.ok()) {
                        break;
                    }
                    if (published.error().code != Errc::queue_full) {
                        ++failures;
                        break;
                    }
                    ++refused;
                    std::this_thread::yield();
                }
            }
        });
    }
    for (auto& thread : publishers) {
        thread.join();
    }
    publishing = false;

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (acked_count < kTotal && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    bool finished = acked_count >= kTotal;
    if (!finished) {
        acked_count = kTotal;  // lets the acker thread stop so that the test can report
    }
    acker.join();

    REQUIRE(finished);
    CHECK(failures == 0);
    CHECK(overlapping == 0);
    CHECK(out_of_order == 0);
    std::lock_guard lock(mutex);
    CHECK(acked.size() == static_cast<std::size_t>(kTotal));
    int missing_or_repeated = 0;
    for (int p = 0; p < kPublishers; ++p) {
        for (int i = 0; i < kPerPublisher; ++i) {
            if (acked.count(numbered(numbered("", p) + "-", i)) != 1) {
                ++missing_or_repeated;
            }
        }
    }
    CHECK(missing_or_repeated == 0);
    auto stats = broker->queue_stats("jobs");
    REQUIRE(stats.ok());
    CHECK(stats->messages_ready == 0);
    CHECK(stats->messages_unacknowledged == 0);
    CHECK(stats->acked_total == static_cast<std::uint64_t>(kTotal));
    CHECK(stats->published_total == static_cast<std::uint64_t>(kTotal));
    CHECK(stats->redelivered_total == stats->nacked_total);
    CHECK(stats->rejected_publish_total == static_cast<std::uint64_t>(refused.load()));
}
