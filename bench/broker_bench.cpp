// SPDX-License-Identifier: MIT
// Throughput of the embedded broker: publish, deliver and ack of small job messages.
#include <benchmark/benchmark.h>

#include <cstdlib>
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

}  // namespace

BENCHMARK_MAIN();
