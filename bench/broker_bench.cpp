// SPDX-License-Identifier: MIT
// Throughput of the embedded broker: publish, deliver and ack of small job messages, transient
// and persistent with publisher confirms, through the default and a topic exchange.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "imgbus/broker/broker.hpp"

namespace {

using imgbus::broker::Broker;
using imgbus::broker::Delivery;
using imgbus::broker::Message;

// One broker for all runs, so that thread setup never races with its creation.
Broker& shared_broker() {
    static auto broker = imgbus::broker::make_embedded_broker();
    return *broker;
}

// A job message shaped like the frontend's: about 200 bytes of JSON.
Message job_message() {
    Message message;
    message.body = R"({"id":"j0123456789abcdef","batch":"b0123456789abcdef","op":"grayscale",)"
                   R"("threads":4,"passes":1,"input":{"bucket":"uploads","key":"in/j0123.jpg"},)"
                   R"("output":{"bucket":"results","key":"out/j0123.png"}})";
    message.message_id = "j0123456789abcdef";
    return message;
}

void declare(const std::string& queue) {
    imgbus::broker::QueueOptions options;
    options.max_length_messages = 1'000'000;
    if (auto declared = shared_broker().declare_queue(queue, options); !declared) {
        throw std::runtime_error(declared.error().message);
    }
}

// Every thread publishes to one shared queue. Each thread also registers a consumer that acks
// inside its handler, so a publish usually runs the whole publish, deliver, ack cycle before
// returning, and several threads contend for the broker's one mutex.
void BM_PublishDeliverAckInHandler(benchmark::State& state) {
    Broker& broker = shared_broker();
    declare("bench-shared");
    auto tag = broker.consume("bench-shared", 16, [&broker](Delivery delivery) {
        if (!broker.ack(delivery.delivery_tag)) {
            std::abort();
        }
    });
    if (!tag) {
        state.SkipWithError(tag.error().message.c_str());
        return;
    }
    const Message message = job_message();
    for (auto _ : state) {
        if (!broker.publish("bench-shared", message)) {
            state.SkipWithError("publish failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    (void)broker.cancel(*tag);
}
BENCHMARK(BM_PublishDeliverAckInHandler)->Threads(1)->Threads(2)->UseRealTime();

// Each thread has its own queue and consumer. An iteration publishes a batch of 64 messages,
// which the handler collects, and then acks them from the benchmark thread, as a worker that
// hands deliveries to a pool does.
void BM_PublishBatchThenAck(benchmark::State& state) {
    constexpr int kBatch = 64;
    Broker& broker = shared_broker();
    const std::string queue = "bench-" + std::to_string(state.thread_index());
    declare(queue);
    std::vector<std::uint64_t> tags;
    tags.reserve(kBatch);
    auto tag = broker.consume(
        queue, kBatch, [&tags](Delivery delivery) { tags.push_back(delivery.delivery_tag); });
    if (!tag) {
        state.SkipWithError(tag.error().message.c_str());
        return;
    }
    const Message message = job_message();
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) {
            (void)broker.publish(queue, message);
        }
        for (std::uint64_t delivery_tag : tags) {
            (void)broker.ack(delivery_tag);
        }
        if (tags.size() != kBatch) {
            state.SkipWithError("a batch was not delivered whole");
            break;
        }
        tags.clear();
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
    (void)broker.cancel(*tag);
}
BENCHMARK(BM_PublishBatchThenAck)->Threads(1)->Threads(2)->UseRealTime();

// A queue that is not durable, for the transient benchmarks below.
std::unique_ptr<Broker> transient_broker(const std::string& queue) {
    auto broker = imgbus::broker::make_embedded_broker();
    imgbus::broker::QueueOptions options;
    options.max_length_messages = 2'000'000;
    options.durable = false;
    if (!broker->queue_declare(queue, options)) throw std::runtime_error("declare failed");
    return broker;
}

// Publish alone through the default exchange; the queue is purged outside the timing.
void BM_PublishTransient(benchmark::State& state) {
    auto broker = transient_broker("publish-only");
    Message message = job_message();
    message.persistent = false;
    std::int64_t since_purge = 0;
    for (auto _ : state) {
        if (!broker->basic_publish("", "publish-only", message, {})) {
            state.SkipWithError("publish failed");
            break;
        }
        if (++since_purge == 500'000) {
            state.PauseTiming();
            (void)broker->purge("publish-only");
            since_purge = 0;
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PublishTransient)->UseRealTime();

// Consume of a full queue with prefetch 100, acking each delivery in the handler: one iteration
// delivers and acks 10,000 messages that were published outside the timing.
void BM_ConsumeAckPrefetch100(benchmark::State& state) {
    constexpr int kMessages = 10'000;
    auto broker = transient_broker("consume");
    Message message = job_message();
    message.persistent = false;
    for (auto _ : state) {
        state.PauseTiming();
        for (int i = 0; i < kMessages; ++i) (void)broker->basic_publish("", "consume", message, {});
        state.ResumeTiming();
        Broker* raw = broker.get();
        auto tag = broker->consume("consume", 100, [raw](Delivery delivery) {
            if (!raw->ack(delivery.delivery_tag)) std::abort();
        });
        if (!tag || broker->queue_stats("consume")->messages_ready != 0) {
            state.SkipWithError("consume failed");
            break;
        }
        (void)broker->cancel(*tag);
    }
    state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_ConsumeAckPrefetch100)->UseRealTime();

// Topic routing: 100 bindings on amq.topic, of which one matches each routing key; a consumer
// acks in its handler.
void BM_TopicPublishDeliverAck(benchmark::State& state) {
    auto broker = transient_broker("topic-target");
    imgbus::broker::QueueOptions other;
    other.durable = false;
    (void)broker->queue_declare("topic-other", other);
    for (int i = 0; i < 99; ++i) {
        (void)broker->queue_bind("topic-other", "amq.topic", "jobs.op" + std::to_string(i) + ".#",
                                 {});
    }
    (void)broker->queue_bind("topic-target", "amq.topic", "jobs.*.grayscale", {});
    Broker* raw = broker.get();
    auto tag = broker->consume("topic-target", 100, [raw](Delivery delivery) {
        if (!raw->ack(delivery.delivery_tag)) std::abort();
    });
    Message message = job_message();
    message.persistent = false;
    for (auto _ : state) {
        auto routed = broker->basic_publish("amq.topic", "jobs.png.grayscale", message, {});
        if (!routed || routed->routed_queues != 1) {
            state.SkipWithError("topic routing failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    if (tag) (void)broker->cancel(*tag);
}
BENCHMARK(BM_TopicPublishDeliverAck)->UseRealTime();

// Persistent messages to a durable queue with publisher confirms, the journal on disk (in
// IMGBUS_BENCH_DIR or the current folder): publish with a confirm callback, deliver, ack in the
// handler. The run ends when every confirm has arrived, so the figure includes the fsyncs.
void BM_PersistentConfirmed(benchmark::State& state) {
    const char* base = std::getenv("IMGBUS_BENCH_DIR");
    const std::filesystem::path dir = std::filesystem::path(base ? base : ".") /
                                      ("imgbus-bench-journal-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    imgbus::broker::BrokerOptions options;
    options.data_dir = dir;
    auto opened = imgbus::broker::open_embedded_broker(options);
    if (!opened) {
        state.SkipWithError(opened.error().message.c_str());
        return;
    }
    Broker& broker = **opened;
    imgbus::broker::QueueOptions durable;
    durable.max_length_messages = 2'000'000;
    (void)broker.queue_declare("persistent", durable);
    auto tag = broker.consume("persistent", 100, [&broker](Delivery delivery) {
        if (!broker.ack(delivery.delivery_tag)) std::abort();
    });

    std::mutex mutex;
    std::condition_variable all_confirmed;
    std::int64_t confirmed = 0;
    imgbus::broker::PublishOptions confirm;
    confirm.on_confirm = [&](bool ack) {
        if (!ack) std::abort();
        std::lock_guard lock(mutex);
        ++confirmed;
        all_confirmed.notify_one();
    };
    const Message message = job_message();  // persistent by default
    for (auto _ : state) {
        if (!broker.basic_publish("", "persistent", message, confirm)) {
            state.SkipWithError("publish failed");
            break;
        }
    }
    std::unique_lock lock(mutex);
    all_confirmed.wait(lock, [&] { return confirmed == state.iterations(); });
    lock.unlock();
    state.SetItemsProcessed(state.iterations());
    state.counters["syncs"] = static_cast<double>(broker.broker_stats().journal_syncs_total);
    if (tag) (void)broker.cancel(*tag);
    opened->reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PersistentConfirmed)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
