// SPDX-License-Identifier: MIT
#include "imgbus/http/frontend.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "job_tracker.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Runs a shell command (always curl against 127.0.0.1) and returns its standard output.
std::string run(const std::string& command) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char chunk[4096];
    while (auto n = fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
    pclose(pipe);
    return output;
}

namespace store = imgbus::store;

// The error message FailingUploadStore returns from a put_object of an uploaded image.
constexpr std::string_view kInjectedFailure = "injected disk failure";

// An ObjectStore that forwards every call to a real store but fails each put_object of a key
// under "uploads/" with io_error, as a full disk would. Job records (under "jobs/") pass through.
class FailingUploadStore final : public store::ObjectStore {
  public:
    explicit FailingUploadStore(std::unique_ptr<store::ObjectStore> inner)
        : inner_(std::move(inner)) {}

    imgbus::Result<void> create_bucket(const std::string& bucket) override {
        return inner_->create_bucket(bucket);
    }
    imgbus::Result<void> ensure_bucket(const std::string& bucket) override {
        return inner_->ensure_bucket(bucket);
    }
    imgbus::Result<void> delete_bucket(const std::string& bucket) override {
        return inner_->delete_bucket(bucket);
    }
    imgbus::Result<std::vector<store::BucketInfo>> list_buckets() override {
        return inner_->list_buckets();
    }
    bool bucket_exists(const std::string& bucket) override { return inner_->bucket_exists(bucket); }

    imgbus::Result<store::ObjectInfo> put_object(const std::string& bucket, const std::string& key,
                                                 std::span<const std::uint8_t> data,
                                                 const store::PutOptions& options) override {
        if (key.starts_with("uploads/")) {
            return store::make_error(store::Errc::io_error, std::string(kInjectedFailure));
        }
        return inner_->put_object(bucket, key, data, options);
    }
    imgbus::Result<store::Object> get_object(const std::string& bucket,
                                             const std::string& key) override {
        return inner_->get_object(bucket, key);
    }
    imgbus::Result<std::unique_ptr<store::ObjectReader>> open_object(
        const std::string& bucket, const std::string& key) override {
        return inner_->open_object(bucket, key);
    }
    imgbus::Result<store::ObjectInfo> head_object(const std::string& bucket,
                                                  const std::string& key) override {
        return inner_->head_object(bucket, key);
    }
    imgbus::Result<void> delete_object(const std::string& bucket, const std::string& key) override {
        return inner_->delete_object(bucket, key);
    }
    imgbus::Result<store::ListResult> list_objects(const std::string& bucket,
                                                   const store::ListOptions& options) override {
        return inner_->list_objects(bucket, options);
    }

  private:
    std::unique_ptr<store::ObjectStore> inner_;
};

// A function that replaces the real store of a System, for instance with a FailingUploadStore
// around it.
using StoreWrapper =
    std::function<std::unique_ptr<store::ObjectStore>(std::unique_ptr<store::ObjectStore>)>;

// The whole in-process system: broker, store, one worker and the frontend on a free port.
struct System {
    fs::path dir;
    std::unique_ptr<imgbus::broker::Broker> broker = imgbus::broker::make_embedded_broker();
    std::unique_ptr<imgbus::store::ObjectStore> store;
    imgbus::metrics::Metrics metrics;
    boost::asio::io_context io;
    std::unique_ptr<imgbus::worker::WorkerPool> pool;
    std::unique_ptr<imgbus::http::Frontend> frontend;
    std::vector<std::thread> threads;
    std::string base;

    explicit System(imgbus::http::FrontendOptions options = {}, const StoreWrapper& wrap = {}) {
        dir = fs::temp_directory_path() / ("imgbus-http-test-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        imgbus::store::FilesystemStoreOptions store_options;
        store_options.fsync = false;
        store = imgbus::store::open_filesystem_store(dir, store_options);
        if (wrap) store = wrap(std::move(store));
        imgbus::worker::WorkerOptions worker_options;
        worker_options.workers = 1;
        pool =
            std::make_unique<imgbus::worker::WorkerPool>(*broker, *store, metrics, worker_options);
        options.host = "127.0.0.1";
        options.port = 0;
        frontend = std::make_unique<imgbus::http::Frontend>(io, *broker, *store, metrics, options);
        auto endpoint = frontend->start();
        REQUIRE(endpoint);
        REQUIRE(pool->start());
        base = "http://127.0.0.1:" + std::to_string(endpoint->port());
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    }

    ~System() {
        frontend->stop();
        pool->stop();
        io.stop();
        for (auto& thread : threads) thread.join();
        frontend.reset();
        fs::remove_all(dir);
    }

    // Returns "STATUS\nBODY" of a curl call with the given extra arguments.
    std::pair<int, std::string> curl(const std::string& args, const std::string& path) {
        auto out =
            run("curl -s --max-time 20 -w '\\n%{http_code}' " + args + " '" + base + path + "'");
        auto newline = out.rfind('\n');
        REQUIRE(newline != std::string::npos);
        return {std::stoi(out.substr(newline + 1)), out.substr(0, newline)};
    }
};

std::string data(const std::string& name) { return std::string(IMGBUS_TEST_DATA_DIR) + "/" + name; }

}  // namespace

TEST_CASE("frontend processes an upload to a gray result", "[http][frontend]") {
    System system;
    // An event stream open during the upload, closed by curl after 4 s.
    auto events_path = system.dir / "events.txt";
    run("curl -s -N --max-time 4 '" + system.base + "/api/events' > " + events_path.string() +
        " &");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto [status, body] =
        system.curl("-F image=@" + data("test.jpg") + " -F threads=1,2", "/api/jobs");
    REQUIRE(status == 202);
    auto accepted = json::parse(body);
    REQUIRE(accepted["jobs"].size() == 2);
    CHECK(accepted["input"]["format"] == "jpeg");
    std::string id = accepted["jobs"][0]["id"];

    json job;
    for (int i = 0; i < 200; ++i) {
        auto [job_status, job_body] = system.curl("", "/api/jobs/" + id);
        REQUIRE(job_status == 200);
        job = json::parse(job_body);
        if (job["status"] == "done" || job["status"] == "failed") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(job["status"] == "done");
    CHECK(job["timings"]["total_ms"].get<double>() > 0);

    auto result_path = system.dir / "result.jpg";
    auto [result_status, ignored] =
        system.curl("-o " + result_path.string(), "/api/jobs/" + id + "/result");
    REQUIRE(result_status == 200);
    auto bytes = run("cat " + result_path.string());
    auto input = run("cat " + data("test.jpg"));
    auto span = [](const std::string& s) {
        return std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    };
    auto result = imgbus::imaging::decode(span(bytes));
    auto original = imgbus::imaging::probe(span(input));
    REQUIRE(result);
    REQUIRE(original);
    CHECK(result->width == original->width);
    CHECK(result->height == original->height);
    CHECK(result->channels == 1);

    auto [batch_status, batch_body] =
        system.curl("", "/api/batches/" + accepted["batch"].get<std::string>());
    CHECK(batch_status == 200);
    CHECK(json::parse(batch_body)["jobs"].size() == 2);

    std::this_thread::sleep_for(std::chrono::seconds(4));
    auto events = run("cat " + events_path.string());
    CHECK(events.find("event: job\ndata: {") != std::string::npos);
    CHECK(events.find("\"status\":\"done\"") != std::string::npos);

    auto [metrics_status, metrics_body] = system.curl("", "/metrics");
    CHECK(metrics_status == 200);
    CHECK(metrics_body.find("frontend_publish_total") != std::string::npos);
    CHECK(metrics_body.find("route=\"/api/jobs/{id}\"") != std::string::npos);
}

TEST_CASE("frontend rejects bad requests and keeps serving", "[http][frontend]") {
    imgbus::http::FrontendOptions options;
    options.max_upload_bytes = 1 << 20;
    System system(options);

    CHECK(system.curl("-X POST --data-binary 'hello' -H 'Content-Type: text/plain'", "/api/jobs")
              .first == 415);
    CHECK(
        system
            .curl("-X POST --data-binary 'not an image' -H 'Content-Type: image/jpeg'", "/api/jobs")
            .first == 415);
    CHECK(system.curl("-X POST -H 'Content-Type: image/jpeg'", "/api/jobs").first == 400);
    CHECK(system.curl("-F image=@" + data("test.jpg") + " -F threads=0", "/api/jobs").first == 400);
    CHECK(system.curl("-F image=@" + data("test.jpg") + " -F op=nope", "/api/jobs").first == 400);
    CHECK(system.curl("-F image=@" + data("test.jpg") + " -F runs=x", "/api/jobs").first == 400);
    CHECK(system
              .curl("-X POST --data-binary @" + data("more_than_one_mega_photo.jpg") +
                        " -H 'Content-Type: image/jpeg'",
                    "/api/jobs")
              .first == 413);
    CHECK(system
              .curl("-X POST -H 'Content-Type: multipart/form-data; boundary=x' --data-binary "
                    "'--x\r\nbroken'",
                    "/api/jobs")
              .first == 400);
    CHECK(system.curl("", "/api/jobs/0123456789abcdef0123456789abcdef").first == 404);
    CHECK(system.curl("", "/api/jobs/../../etc/passwd").first == 404);
    CHECK(system.curl("-X DELETE", "/api/jobs").first == 405);
    CHECK(system.curl("", "/nope").first == 404);
    CHECK(system.curl("", "/healthz").first == 200);
    CHECK(system.curl("", "/readyz").first == 200);
    CHECK(system.curl("", "/api/config").first == 200);
    auto [ops_status, ops] = system.curl("", "/api/operations");
    CHECK(ops_status == 200);
    CHECK(ops.find("grayscale") != std::string::npos);
    auto [queues_status, queues] = system.curl("", "/api/ui/queues");
    CHECK(queues_status == 200);
    CHECK(queues.find("messages_ready") != std::string::npos);
    auto [index_status, index] = system.curl("", "/");
    CHECK(index_status == 200);
}

TEST_CASE("frontend answers 503 when the job queue is full", "[http][frontend]") {
    System system;
    system.pool->stop();
    REQUIRE(system.broker->delete_queue("imgbus.jobs"));
    imgbus::broker::QueueOptions tiny;
    tiny.max_length_messages = 1;
    REQUIRE(system.broker->declare_queue("imgbus.jobs", tiny));

    auto out = run("curl -s -i --max-time 20 -F image=@" + data("test.jpg") + " -F threads=1,2 '" +
                   system.base + "/api/jobs'");
    CHECK(out.find(" 503 ") != std::string::npos);
    CHECK(out.find("Retry-After: 2") != std::string::npos);
    CHECK(out.find("queue_full") != std::string::npos);
    auto stats = system.broker->queue_stats("imgbus.jobs");
    REQUIRE(stats);
    CHECK(stats->messages_ready == 0);
}

namespace {

// The jobs the frontend lists, newest first, each as GET /api/jobs/{id} returns it.
std::vector<json> listed_jobs(System& system) {
    auto [status, body] = system.curl("", "/api/jobs");
    REQUIRE(status == 200);
    const auto listing = json::parse(body);
    std::vector<json> jobs;
    for (const auto& listed : listing["jobs"]) {
        auto [job_status, job_body] =
            system.curl("", "/api/jobs/" + listed["id"].get<std::string>());
        REQUIRE(job_status == 200);
        jobs.push_back(json::parse(job_body));
    }
    return jobs;
}

// Runs the recovery of a restart on the system's store, with a fresh broker as after a crash.
// Returns how many jobs it published and how many messages the fresh job queue then contains.
std::pair<std::size_t, std::size_t> recover_after_crash(System& system) {
    auto broker = imgbus::broker::make_embedded_broker();
    REQUIRE(broker->declare_queue("imgbus.jobs", {}));
    auto tracker = std::make_shared<imgbus::http::JobTracker>(
        *broker, *system.store, system.metrics, imgbus::http::TrackerOptions{});
    auto published = tracker->recover();
    REQUIRE(published);
    auto stats = broker->queue_stats("imgbus.jobs");
    REQUIRE(stats);
    return {*published, stats->messages_ready};
}

}  // namespace

TEST_CASE("frontend fails jobs of unstored upload", "[http][frontend]") {
    System system({}, [](std::unique_ptr<store::ObjectStore> real) {
        return std::make_unique<FailingUploadStore>(std::move(real));
    });
    auto [status, body] =
        system.curl("-F image=@" + data("test.jpg") + " -F threads=1,2", "/api/jobs");
    CHECK(status == 503);
    auto error = json::parse(body);
    CHECK(error["error"] == "unavailable");
    CHECK(error["message"] ==
          "storing the upload failed: " + std::string(kInjectedFailure) + "; retry later");

    const auto reason = "not queued: storing the upload failed: " + std::string(kInjectedFailure);
    auto jobs = listed_jobs(system);
    REQUIRE(jobs.size() == 2);
    for (const auto& job : jobs) {
        CHECK(job["status"] == "failed");
        CHECK(job["error"] == reason);
    }
    auto stats = system.broker->queue_stats("imgbus.jobs");
    REQUIRE(stats);
    CHECK(stats->published_total == 0);

    auto [republished, ready] = recover_after_crash(system);
    CHECK(republished == 0);
    CHECK(ready == 0);
}
