// SPDX-License-Identifier: MIT
#include "imgbus/worker/worker_pool.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "worker/fakes.hpp"

namespace {

using namespace imgbus;
using namespace imgbus::worker;
using imgbus::worker::testing::FakeBroker;
using imgbus::worker::testing::FakeStore;
using imgbus::worker::testing::Gate;

const std::string kJobs{kJobQueue};
const std::string kEvents{kEventQueue};

std::vector<std::uint8_t> read_test_file(const std::string& name) {
    std::ifstream file{std::string{IMGBUS_TEST_DATA_DIR} + "/" + name, std::ios::binary};
    REQUIRE(file.good());
    return {std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
}

// Polls `condition` until it is true or 10 s pass.
bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
    return condition();
}

struct PoolFixture {
    PoolFixture() {
        (void)store.ensure_bucket("input");
        (void)store.ensure_bucket("output");
        REQUIRE(store.put_object("input", "tiny.jpg", read_test_file("hostile/17x17-420.jpg"), {})
                    .ok());
        REQUIRE(broker.declare_queue(kJobs, {}).ok());
        REQUIRE(broker.declare_queue(kEvents, {}).ok());
    }

    void publish_job(const std::string& id, const std::string& input_key = "tiny.jpg") {
        JobMessage job;
        job.id = id;
        job.batch = "b-1";
        job.input = {"input", input_key};
        job.output = {"output", id + ".jpg"};
        publish_raw(to_json(job));
    }

    void publish_raw(const std::string& body) {
        broker::Message message;
        message.body = body;
        REQUIRE(broker.publish(kJobs, message).ok());
    }

    broker::QueueStats jobs_stats() { return *broker.queue_stats(kJobs); }

    bool jobs_drained() {
        const auto stats = jobs_stats();
        return stats.messages_ready == 0 && stats.messages_unacknowledged == 0;
    }

    std::vector<JobEvent> events() {
        std::vector<JobEvent> parsed;
        for (const auto& body : broker.ready_bodies(kEvents)) {
            auto event = parse_job_event(body);
            REQUIRE(event.ok());
            parsed.push_back(*event);
        }
        return parsed;
    }

    std::size_t count_events(JobStatus status) {
        std::size_t count = 0;
        for (const auto& event : events()) {
            count += event.status == status ? 1 : 0;
        }
        return count;
    }

    FakeBroker broker;
    FakeStore store;
    metrics::Metrics metrics;
    WorkerOptions options;
};

double histogram_count(prometheus::Histogram& histogram) {
    return static_cast<double>(histogram.Collect().histogram.sample_count);
}

}  // namespace

TEST_CASE("pool processes every job exactly once", "[worker]") {
    PoolFixture f;
    f.options.workers = 3;
    f.options.prefetch = 2;
    constexpr int kJobCount = 24;
    for (int i = 0; i < kJobCount; ++i) {
        f.publish_job("j-" + std::to_string(i));
    }

    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    CHECK(pool.running_workers() == 3);
    REQUIRE(eventually([&] { return f.count_events(JobStatus::done) == kJobCount; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();

    std::map<std::string, int> done_per_job;
    std::map<std::string, int> processing_per_job;
    for (const auto& event : f.events()) {
        CHECK(event.error.empty());
        CHECK(event.worker.find("/w") != std::string::npos);
        if (event.status == JobStatus::done) {
            ++done_per_job[event.id];
            CHECK(event.width == 17);
        } else {
            ++processing_per_job[event.id];
        }
    }
    CHECK(done_per_job.size() == kJobCount);
    CHECK(processing_per_job.size() == kJobCount);
    for (const auto& [id, count] : done_per_job) {
        INFO("job " << id);
        CHECK(count == 1);
        CHECK(f.store.get_object("output", id + ".jpg").ok());
    }
    CHECK(f.broker.acks().size() == kJobCount);
    CHECK(f.broker.nacks().empty());
    CHECK(histogram_count(f.metrics.grayscale_queue_wait_seconds()) == kJobCount);
    CHECK(histogram_count(f.metrics.grayscale_process_seconds()) == kJobCount);
    CHECK(histogram_count(f.metrics.grayscale_startup_seconds()) == 1);
    CHECK(f.metrics.workers_busy().Value() == 0);
}

TEST_CASE("pool holds no more than prefetch per worker", "[worker]") {
    PoolFixture f;
    f.options.workers = 2;
    f.options.prefetch = 3;
    Gate gate;
    f.store.before_get = [&gate] { gate.wait(); };
    for (int i = 0; i < 10; ++i) {
        f.publish_job("j-" + std::to_string(i));
    }

    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return gate.waiting() == 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    const auto held = f.jobs_stats();
    CHECK(held.messages_unacknowledged == 6);
    CHECK(held.messages_ready == 4);
    CHECK(f.metrics.workers_busy().Value() == 2);

    gate.open();
    REQUIRE(eventually([&] { return f.count_events(JobStatus::done) == 10; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
}

TEST_CASE("pool nacks a failed job without requeue", "[worker]") {
    PoolFixture f;
    f.publish_job("j-missing", "absent.jpg");
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return f.count_events(JobStatus::failed) == 1; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();

    const auto nacks = f.broker.nacks();
    REQUIRE(nacks.size() == 1);
    CHECK_FALSE(nacks[0].second);
    CHECK(f.broker.acks().empty());
    CHECK(f.metrics.grayscale_failures_total("fetch").Value() == 1);
    CHECK(f.metrics.grayscale_failures_total("decode").Value() == 0);
    for (const auto& event : f.events()) {
        if (event.status == JobStatus::failed) {
            CHECK(event.id == "j-missing");
            CHECK(event.error.rfind("fetch failed: ", 0) == 0);
        }
    }
}

TEST_CASE("pool rejects malformed job messages", "[worker]") {
    PoolFixture f;
    f.publish_raw("this is not JSON");
    f.publish_raw(R"({"version": 1, "id": "j-bad", "op": "grayscale", "threads": "x"})");
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return f.broker.nacks().size() == 2; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();

    for (const auto& [tag, requeue] : f.broker.nacks()) {
        CHECK_FALSE(requeue);
    }
    CHECK(f.metrics.grayscale_failures_total("bad_message").Value() == 2);
    // Only the message with a readable id can be reported as a failed job.
    const auto events = f.events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].id == "j-bad");
    CHECK(events[0].status == JobStatus::failed);
    CHECK(events[0].error.find("'threads' must be an integer") != std::string::npos);
}

TEST_CASE("pool stop leaves queued jobs ready", "[worker]") {
    PoolFixture f;
    f.options.workers = 1;
    f.options.prefetch = 3;
    Gate gate;
    f.store.before_get = [&gate] { gate.wait(); };
    for (int i = 0; i < 5; ++i) {
        f.publish_job("j-" + std::to_string(i));
    }

    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return gate.waiting() == 1; }));
    REQUIRE(f.jobs_stats().messages_unacknowledged == 3);

    // stop() waits for the job in progress, which waits for the gate.
    std::thread stopper{[&pool] { pool.stop(); }};
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    gate.open();
    stopper.join();

    const auto stats = f.jobs_stats();
    CHECK(stats.messages_ready == 4);
    CHECK(stats.messages_unacknowledged == 0);
    CHECK(stats.consumers == 0);
    CHECK(pool.running_workers() == 0);
    CHECK(f.count_events(JobStatus::done) == 1);
    CHECK(f.broker.acks().size() == 1);
    CHECK(f.broker.nacks().empty());
}

TEST_CASE("pool restart resumes consuming", "[worker]") {
    PoolFixture f;
    f.options.workers = 2;
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    pool.stop();
    CHECK(pool.running_workers() == 0);
    f.publish_job("j-after-stop");
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    CHECK(f.jobs_stats().messages_ready == 1);

    REQUIRE(pool.restart().ok());
    CHECK(pool.running_workers() == 2);
    REQUIRE(eventually([&] { return f.count_events(JobStatus::done) == 1; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    REQUIRE(pool.restart().ok());
    CHECK(f.jobs_stats().consumers == 2);
}

TEST_CASE("pool acks even when events cannot be published", "[worker]") {
    PoolFixture f;
    f.broker.fail_publishes_to(kEvents);
    f.publish_job("j-1");
    f.publish_job("j-2", "absent.jpg");
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();

    CHECK(f.broker.acks().size() == 1);
    REQUIRE(f.broker.nacks().size() == 1);
    CHECK_FALSE(f.broker.nacks()[0].second);
    // Two events per job, five attempts each.
    CHECK(f.broker.failed_publishes() == 20);
    CHECK(f.store.get_object("output", "j-1.jpg").ok());
}

TEST_CASE("pool rejects invalid options", "[worker]") {
    PoolFixture f;
    f.options.prefetch = 0;
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    const auto started = pool.start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().message.find("prefetch 0") != std::string::npos);
    CHECK(pool.running_workers() == 0);
}

TEST_CASE("pool with zero workers consumes nothing", "[worker]") {
    PoolFixture f;
    f.options.workers = 0;
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    CHECK(pool.running_workers() == 0);
    CHECK(f.jobs_stats().consumers == 0);
}

TEST_CASE("pool counts failures past the warning limit", "[worker]") {
    PoolFixture f;
    constexpr int kBadMessages = 25;
    for (int i = 0; i < kBadMessages; ++i) {
        f.publish_raw("{broken " + std::to_string(i));
    }
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();
    CHECK(f.metrics.grayscale_failures_total("bad_message").Value() == kBadMessages);
    CHECK(f.broker.nacks().size() == kBadMessages);
}

TEST_CASE("pool retries a store failure, then dead-letters", "[worker]") {
    PoolFixture f;
    f.store.fail_puts = true;  // io_error: the store may come back, so the job is tried again
    f.options.max_attempts = 2;
    f.publish_job("j-store");
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return f.count_events(JobStatus::failed) == 1; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();

    const auto dead = f.broker.ready_bodies(std::string{kDeadLetterQueue});
    REQUIRE(dead.size() == 1);
    CHECK(parse_job_message(dead[0])->id == "j-store");
    // Try 1 was published again and acked; try 2 went to the dead-letter queue and was nacked.
    CHECK(f.broker.acks().size() == 1);
    CHECK(f.broker.nacks().size() == 1);
    CHECK(f.metrics.grayscale_failures_total("store").Value() == 1);
    for (const auto& event : f.events()) {
        if (event.status == JobStatus::failed) {
            CHECK(event.error.find("store failed: ") == 0);
            CHECK(event.error.find("all 2 tries") != std::string::npos);
        }
    }
}

TEST_CASE("pool does not retry a job whose input is missing", "[worker]") {
    PoolFixture f;
    f.options.max_attempts = 5;
    f.publish_job("j-gone", "absent.jpg");  // no_such_key: another try cannot help
    WorkerPool pool{f.broker, f.store, f.metrics, f.options};
    REQUIRE(pool.start().ok());
    REQUIRE(eventually([&] { return f.count_events(JobStatus::failed) == 1; }));
    REQUIRE(eventually([&] { return f.jobs_drained(); }));
    pool.stop();
    CHECK(f.broker.ready_bodies(std::string{kDeadLetterQueue}).empty());
    CHECK(f.broker.acks().empty());
    CHECK(f.broker.nacks().size() == 1);
}
