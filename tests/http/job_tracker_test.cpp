// SPDX-License-Identifier: MIT
#include "job_tracker.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

#include "imgbus/store/filesystem_store.hpp"

namespace {

namespace fs = std::filesystem;
using imgbus::http::JobRecord;
using imgbus::http::JobTracker;
using imgbus::worker::JobStatus;

struct TempStore {
    fs::path dir =
        fs::temp_directory_path() / ("imgbus-tracker-test-" + std::to_string(::getpid()));
    std::unique_ptr<imgbus::store::ObjectStore> store;

    TempStore() {
        fs::remove_all(dir);
        store = imgbus::store::open_filesystem_store(dir,
                                                     {.max_object_bytes = 1 << 20, .fsync = false});
        REQUIRE(store->ensure_bucket("imgbus"));
    }
    ~TempStore() { fs::remove_all(dir); }
};

JobRecord make_job(const std::string& id, const std::string& batch) {
    JobRecord job;
    job.message.id = id;
    job.message.batch = batch;
    job.message.threads = 2;
    job.message.input = {"imgbus", "uploads/" + batch + "/input.jpg"};
    job.message.output = {"imgbus", "processed/" + id + ".jpg"};
    job.input.format = "jpeg";
    job.input.object = job.message.input;
    job.created_at = job.updated_at = std::chrono::system_clock::now();
    return job;
}

imgbus::worker::JobEvent make_event(const std::string& id, JobStatus status) {
    imgbus::worker::JobEvent event;
    event.id = id;
    event.status = status;
    event.width = 4;
    event.height = 3;
    event.timings.kernel_seconds = 0.25;
    return event;
}

}  // namespace

TEST_CASE("job tracker status only moves forward", "[http][tracker]") {
    TempStore temp;
    auto broker = imgbus::broker::make_embedded_broker();
    imgbus::metrics::Metrics metrics;
    auto tracker =
        std::make_shared<JobTracker>(*broker, *temp.store, metrics, imgbus::http::TrackerOptions{});
    REQUIRE(tracker->add(make_job("j1", "b1")));

    CHECK(tracker->apply(make_event("j1", JobStatus::processing)));
    CHECK(tracker->find("j1")->status == JobStatus::processing);
    CHECK(tracker->apply(make_event("j1", JobStatus::done)));
    CHECK_FALSE(tracker->apply(make_event("j1", JobStatus::processing)));
    CHECK_FALSE(tracker->apply(make_event("j1", JobStatus::failed)));
    CHECK_FALSE(tracker->apply(make_event("unknown", JobStatus::done)));

    auto job = tracker->find("j1");
    REQUIRE(job);
    CHECK(job->status == JobStatus::done);
    CHECK(job->width == 4);
    CHECK(job->timings.kernel_seconds == Approx(0.25));
    CHECK(metrics.serialize().find(
              "frontend_processed_total{op=\"grayscale\",status=\"done\"} 1") != std::string::npos);
}

TEST_CASE("job tracker notifies subscribers", "[http][tracker]") {
    TempStore temp;
    auto broker = imgbus::broker::make_embedded_broker();
    imgbus::metrics::Metrics metrics;
    auto tracker =
        std::make_shared<JobTracker>(*broker, *temp.store, metrics, imgbus::http::TrackerOptions{});
    std::vector<JobStatus> seen;
    auto id = tracker->subscribe([&seen](const JobRecord& job) { seen.push_back(job.status); });
    REQUIRE(tracker->add(make_job("j1", "b1")));
    tracker->apply(make_event("j1", JobStatus::done));
    tracker->unsubscribe(id);
    tracker->apply(make_event("j1", JobStatus::failed));
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == JobStatus::queued);
    CHECK(seen[1] == JobStatus::done);
}

TEST_CASE("job tracker recovers unfinished jobs", "[http][tracker]") {
    TempStore temp;
    imgbus::metrics::Metrics metrics;
    {
        auto broker = imgbus::broker::make_embedded_broker();
        auto tracker = std::make_shared<JobTracker>(*broker, *temp.store, metrics,
                                                    imgbus::http::TrackerOptions{});
        REQUIRE(tracker->add(make_job("queued1", "b1")));
        REQUIRE(tracker->add(make_job("done1", "b1")));
        REQUIRE(tracker->add(make_job("processing1", "b2")));
        tracker->apply(make_event("done1", JobStatus::done));
        tracker->apply(make_event("processing1", JobStatus::processing));
    }

    // A fresh broker, as after a crash of the process.
    auto broker = imgbus::broker::make_embedded_broker();
    REQUIRE(broker->declare_queue("imgbus.jobs", {}));
    auto tracker =
        std::make_shared<JobTracker>(*broker, *temp.store, metrics, imgbus::http::TrackerOptions{});
    auto published = tracker->recover();
    REQUIRE(published);
    CHECK(*published == 2);
    auto stats = broker->queue_stats("imgbus.jobs");
    REQUIRE(stats);
    CHECK(stats->messages_ready == 2);

    auto done = tracker->find("done1");
    REQUIRE(done);
    CHECK(done->status == JobStatus::done);
    CHECK(done->message.output.key == "processed/done1.jpg");
    CHECK(tracker->batch("b1").size() == 2);
    CHECK(tracker->find("queued1")->status == JobStatus::queued);
}

TEST_CASE("job tracker skips a corrupt record", "[http][tracker]") {
    TempStore temp;
    std::string junk = "{not json";
    REQUIRE(
        temp.store->put_object("imgbus", "jobs/bad.json",
                               {reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()}));
    auto broker = imgbus::broker::make_embedded_broker();
    REQUIRE(broker->declare_queue("imgbus.jobs", {}));
    imgbus::metrics::Metrics metrics;
    auto tracker =
        std::make_shared<JobTracker>(*broker, *temp.store, metrics, imgbus::http::TrackerOptions{});
    auto published = tracker->recover();
    REQUIRE(published);
    CHECK(*published == 0);
    CHECK_FALSE(imgbus::http::parse_storage_json(R"({"job":1,"message":{},"input":{}})"));
}
