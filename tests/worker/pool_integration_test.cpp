// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "imgbus/imaging/codec.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "imgbus/worker/worker_pool.hpp"

namespace {

using namespace imgbus;
using namespace imgbus::worker;

const std::string kJobs{kJobQueue};
const std::string kEvents{kEventQueue};

std::vector<std::uint8_t> read_test_file(const std::string& name) {
    std::ifstream file{std::string{IMGBUS_TEST_DATA_DIR} + "/" + name, std::ios::binary};
    REQUIRE(file.good());
    return {std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
}

bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return condition();
}

// A temporary directory removed with everything in it at the end of the test.
struct TempDir {
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "imgbus-worker-XXXXXX");
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
};

// The real embedded broker and filesystem store, with a consumer that collects the events.
struct RealSystem {
    RealSystem() {
        store = store::open_filesystem_store(dir.path, {.fsync = false});
        REQUIRE(store->ensure_bucket("imgbus-input").ok());
        REQUIRE(store->ensure_bucket("imgbus-output").ok());
        REQUIRE(store
                    ->put_object("imgbus-input", "photo.jpg", read_test_file("test.jpg"),
                                 {.content_type = "image/jpeg"})
                    .ok());
        REQUIRE(broker->declare_queue(kJobs, {}).ok());
        REQUIRE(broker->declare_queue(kEvents, {}).ok());
        auto consumer = broker->consume(kEvents, 0, [this](broker::Delivery delivery) {
            auto event = parse_job_event(delivery.message.body);
            std::lock_guard lock{mutex};
            if (event) {
                events.push_back(*event);
            }
            (void)broker->ack(delivery.delivery_tag);
        });
        REQUIRE(consumer.ok());
    }

    void publish_job(const std::string& id, int threads) {
        JobMessage job;
        job.id = id;
        job.batch = "b-1";
        job.threads = threads;
        job.input = {"imgbus-input", "photo.jpg"};
        job.output = {"imgbus-output", "b-1/" + id + ".jpg"};
        job.submitted_at = std::chrono::system_clock::now();
        broker::Message message;
        message.body = to_json(job);
        REQUIRE(broker->publish(kJobs, message).ok());
    }

    std::map<std::string, int> done_counts() {
        std::lock_guard lock{mutex};
        std::map<std::string, int> counts;
        for (const auto& event : events) {
            if (event.status == JobStatus::done) {
                ++counts[event.id];
            }
        }
        return counts;
    }

    broker::QueueStats jobs_stats() { return *broker->queue_stats(kJobs); }

    TempDir dir;
    std::unique_ptr<store::ObjectStore> store;
    std::unique_ptr<broker::Broker> broker = broker::make_embedded_broker();
    metrics::Metrics metrics;
    std::mutex mutex;
    std::vector<JobEvent> events;
};

}  // namespace

TEST_CASE("pool over the embedded broker and filesystem store", "[worker]") {
    RealSystem system;
    const std::vector<int> thread_counts = {1, 2, 4, 2, 1, 3};
    for (std::size_t i = 0; i < thread_counts.size(); ++i) {
        system.publish_job("j-" + std::to_string(i), thread_counts[i]);
    }

    WorkerOptions options;
    options.workers = 2;
    options.prefetch = 2;
    WorkerPool pool{*system.broker, *system.store, system.metrics, options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return system.done_counts().size() == thread_counts.size(); }));
    pool.stop();

    const auto stats = system.jobs_stats();
    CHECK(stats.messages_ready == 0);
    CHECK(stats.messages_unacknowledged == 0);
    CHECK(stats.acked_total == thread_counts.size());
    for (std::size_t i = 0; i < thread_counts.size(); ++i) {
        const std::string id = "j-" + std::to_string(i);
        INFO("job " << id);
        CHECK(system.done_counts()[id] == 1);
        const auto output = system.store->get_object("imgbus-output", "b-1/" + id + ".jpg");
        REQUIRE(output.ok());
        CHECK(output->info.content_type == "image/jpeg");
        const auto info = imaging::probe(output->data);
        REQUIRE(info.ok());
        CHECK(info->format == imaging::Format::jpeg);
        CHECK(info->width == 1920);
        CHECK(info->height == 1080);
        CHECK(info->channels == 1);
    }
    CHECK(system.metrics.grayscale_process_seconds().Collect().histogram.sample_count ==
          thread_counts.size());
}

TEST_CASE("pool stop over the embedded broker loses no job", "[worker]") {
    RealSystem system;
    constexpr int kJobCount = 12;
    for (int i = 0; i < kJobCount; ++i) {
        system.publish_job("j-" + std::to_string(i), 1);
    }

    WorkerOptions options;
    options.workers = 2;
    options.prefetch = 3;
    WorkerPool pool{*system.broker, *system.store, system.metrics, options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return !system.done_counts().empty(); }));
    pool.stop();

    const auto stopped = system.jobs_stats();
    const auto done_before_restart = system.done_counts().size();
    CHECK(stopped.messages_unacknowledged == 0);
    CHECK(stopped.consumers == 0);
    CHECK(stopped.messages_ready + done_before_restart == kJobCount);

    REQUIRE(pool.restart().ok());
    REQUIRE(eventually([&] { return system.done_counts().size() == kJobCount; }));
    pool.stop();
    for (const auto& [id, count] : system.done_counts()) {
        INFO("job " << id);
        CHECK(count == 1);
    }
    const auto drained = system.jobs_stats();
    CHECK(drained.messages_ready == 0);
    CHECK(drained.messages_unacknowledged == 0);
    CHECK(drained.acked_total == kJobCount);
}
