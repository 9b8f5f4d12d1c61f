// SPDX-License-Identifier: MIT
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "imgbus/http/frontend.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "job_tracker.hpp"
#include "management.hpp"

namespace {

namespace fs = std::filesystem;
using imgbus::http::QueueRates;
using nlohmann::json;

constexpr const char* kAuth = "-u mgmt-user:mgmt-secret";

std::string run(const std::string& command) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char chunk[4096];
    while (auto n = fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
    pclose(pipe);
    return output;
}

std::string data(const std::string& name) { return std::string(IMGBUS_TEST_DATA_DIR) + "/" + name; }

// Broker, store, one worker and the frontend with management credentials, on a free port.
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

    explicit System(bool with_credentials = true) {
        dir = fs::temp_directory_path() / ("imgbus-mgmt-test-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        store = imgbus::store::open_filesystem_store(dir, {.fsync = false});
        imgbus::worker::WorkerOptions worker_options;
        worker_options.workers = 1;
        pool =
            std::make_unique<imgbus::worker::WorkerPool>(*broker, *store, metrics, worker_options);
        imgbus::http::FrontendOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.rate_sample_interval = std::chrono::milliseconds(200);
        options.drain_timeout = std::chrono::seconds(5);
        if (with_credentials) {
            options.management_username = "mgmt-user";
            options.management_password = "mgmt-secret";
        }
        frontend = std::make_unique<imgbus::http::Frontend>(io, *broker, *store, metrics, options);
        frontend->set_admin_hooks({pool.get(), 1, dir, {}});
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

    std::pair<int, std::string> curl(const std::string& args, const std::string& path) {
        auto out =
            run("curl -s --max-time 20 -w '\\n%{http_code}' " + args + " '" + base + path + "'");
        auto newline = out.rfind('\n');
        REQUIRE(newline != std::string::npos);
        return {std::stoi(out.substr(newline + 1)), out.substr(0, newline)};
    }

    json get(const std::string& path) {
        auto [status, body] = curl(kAuth, path);
        REQUIRE(status == 200);
        return json::parse(body);
    }

    std::string upload() {
        auto [status, body] = curl("-F image=@" + data("test.jpg") + " -F threads=1", "/api/jobs");
        REQUIRE(status == 202);
        return json::parse(body)["jobs"][0]["id"];
    }
};

imgbus::broker::QueueStats stats(const std::string& name, std::uint64_t published,
                                 std::size_t ready) {
    imgbus::broker::QueueStats queue;
    queue.name = name;
    queue.published_total = published;
    queue.messages_ready = ready;
    return queue;
}

}  // namespace

TEST_CASE("queue rates are per second between the two latest samples", "[http][management]") {
    QueueRates rates;
    auto start = QueueRates::Clock::now();
    rates.record({stats("a", 10, 4), stats("b", 0, 0)}, start);
    CHECK(rates.rate("a").publish == 0);

    rates.record({stats("a", 30, 2), stats("b", 5, 0)}, start + std::chrono::seconds(5));
    CHECK(rates.rate("a").publish == Approx(4.0));
    CHECK(rates.rate("a").messages_ready == Approx(-0.4));
    CHECK(rates.total().publish == Approx(5.0));

    // A queue declared again starts its counters from zero: no negative publish rate.
    rates.record({stats("a", 3, 0)}, start + std::chrono::seconds(10));
    CHECK(rates.rate("a").publish == 0);
    CHECK(rates.rate("b").publish == 0);  // gone, forgotten
}

TEST_CASE("counter rates are per second between the two latest samples", "[http][management]") {
    imgbus::http::CounterRates rates;
    auto start = imgbus::http::CounterRates::Clock::now();
    rates.record({{"conn", {{"recv_oct", 100}}}}, start);
    CHECK(rates.rate("conn", "recv_oct") == 0);  // one sample: no rate yet
    rates.record({{"conn", {{"recv_oct", 600}}}}, start + std::chrono::seconds(5));
    CHECK(rates.rate("conn", "recv_oct") == Approx(100.0));
    CHECK(rates.rate("conn", "send_oct") == 0);
    CHECK(rates.rate("other", "recv_oct") == 0);
    rates.record({{"conn", {{"recv_oct", 10}}}}, start + std::chrono::seconds(10));
    CHECK(rates.rate("conn", "recv_oct") == 0);  // a counter that went down was reset
    rates.record({}, start + std::chrono::seconds(15));
    CHECK(rates.rate("conn", "recv_oct") == 0);  // a closed connection is forgotten
}

TEST_CASE("management routes require the basic-auth credentials", "[http][management]") {
    System system;
    auto [status, body] = system.curl("-D -", "/api/queues");
    CHECK(status == 401);
    CHECK(body.find("WWW-Authenticate: Basic") != std::string::npos);
    CHECK(body.find("\"reason\"") != std::string::npos);
    CHECK(system.curl("-u mgmt-user:wrong", "/api/overview").first == 401);
    CHECK(system.curl("-u mgmt-use:mgmt-secret", "/api/overview").first == 401);
    CHECK(system.curl("-H 'Authorization: Basic !!!'", "/api/overview").first == 401);
    CHECK(system.curl("", "/api/admin/status").first == 401);
    CHECK(system.curl("-X POST", "/api/admin/restart-workers").first == 401);
    CHECK(system.curl(kAuth, "/api/overview").first == 200);

    // The web UI's summary stays open, read-only.
    auto [ui_status, ui_body] = system.curl("", "/api/ui/queues");
    CHECK(ui_status == 200);
    CHECK(ui_body.find("imgbus.jobs") != std::string::npos);
}

TEST_CASE("management routes are off without configured credentials", "[http][management]") {
    System system(false);
    auto [status, body] = system.curl("-u :", "/api/queues");
    CHECK(status == 403);
    CHECK(body.find("--access-key") != std::string::npos);
}

TEST_CASE("queue objects carry RabbitMQ's fields and rates", "[http][management]") {
    System system;
    REQUIRE(system.broker->declare_queue("probe", {}));
    // Let a sample see the queue empty, so that the next one has a publish rate.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 20; ++i) {
        imgbus::broker::Message message;
        message.body = "x";
        REQUIRE(system.broker->publish("probe", message));
    }
    json queue;
    for (int i = 0; i < 50; ++i) {
        queue = system.get("/api/queues/%2F/probe");
        if (queue["message_stats"]["publish_details"]["rate"].get<double>() > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(queue["name"] == "probe");
    CHECK(queue["vhost"] == "/");
    CHECK(queue["messages"] == 20);
    CHECK(queue["messages_ready"] == 20);
    CHECK(queue["messages_unacknowledged"] == 0);
    CHECK(queue["memory"] == 20);
    CHECK(queue["message_stats"]["publish"] == 20);
    CHECK(queue["message_stats"]["publish_details"]["rate"].get<double>() > 0);
    for (auto key : {"deliver_get", "ack", "redeliver"}) {
        CHECK(queue["message_stats"][key].is_number_unsigned());
        CHECK(queue["message_stats"][std::string(key) + "_details"]["rate"].is_number());
    }

    auto overview = system.get("/api/overview");
    CHECK(overview["queue_totals"]["messages_ready"].get<int>() >= 20);
    CHECK(overview["object_totals"]["queues"].get<int>() >= 3);
    CHECK(overview["object_totals"]["consumers"].get<int>() >= 1);

    auto listed = system.get("/api/queues?columns=name,message_stats.publish");
    auto probe = std::find_if(listed.begin(), listed.end(),
                              [](const json& item) { return item["name"] == "probe"; });
    REQUIRE(probe != listed.end());
    CHECK(*probe == json{{"name", "probe"}, {"message_stats", {{"publish", 20}}}});

    CHECK(system.curl(kAuth, "/api/queues/%2F/missing").first == 404);
    CHECK(system.curl(kAuth, "/api/queues/other/probe").first == 404);
    CHECK(system.curl(kAuth, "/api/queues/%2F").first == 200);
}

TEST_CASE("purging the job queue records its queued jobs as purged", "[http][management]") {
    System system;
    system.pool->stop();
    auto first = system.upload();
    auto second = system.upload();
    CHECK(system.get("/api/queues/%2F/imgbus.jobs")["messages_ready"] == 2);

    CHECK(system.curl(kAuth + std::string(" -X DELETE"), "/api/queues/%2F/imgbus.jobs/contents")
              .first == 204);
    CHECK(system.get("/api/queues/%2F/imgbus.jobs")["messages_ready"] == 0);
    for (const auto& id : {first, second}) {
        auto job = json::parse(system.curl("", "/api/jobs/" + id).second);
        CHECK(job["status"] == "failed");
        CHECK(job["error"] == "purged by an operator");
    }

    auto [events_status, events_body] =
        system.curl(kAuth + std::string(" -X DELETE"), "/api/queues/%2F/imgbus.events/contents");
    CHECK(events_status == 409);
    CHECK(events_body.find("imgbus.jobs") != std::string::npos);
    CHECK(system.curl(kAuth + std::string(" -X DELETE"), "/api/queues/%2F/nope/contents").first ==
          404);
    CHECK(system.curl("-X DELETE", "/api/queues/%2F/imgbus.jobs/contents").first == 401);
}

TEST_CASE("a purged job that a worker had taken ends with its real outcome", "[http][management]") {
    System system;
    system.pool->stop();
    auto id = system.upload();
    auto [status, body] = system.curl(kAuth + std::string(" -X POST"), "/api/admin/purge");
    REQUIRE(status == 200);
    CHECK(json::parse(body)["jobs_marked_purged"] == 1);

    // The tracker accepts the events of a job it recorded as purged.
    imgbus::worker::JobEvent event;
    event.id = id;
    event.status = imgbus::worker::JobStatus::processing;
    imgbus::broker::Message message;
    message.body = imgbus::worker::to_json(event);
    REQUIRE(system.broker->publish("imgbus.events", message));
    json job;
    for (int i = 0; i < 50; ++i) {
        job = json::parse(system.curl("", "/api/jobs/" + id).second);
        if (job["status"] == "processing") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(job["status"] == "processing");
    CHECK(job["error"] == "");
}

TEST_CASE("admin status, intake pause and worker restart", "[http][admin]") {
    System system;
    auto status = system.get("/api/admin/status");
    CHECK(status["status"] == "ok");
    CHECK(status["broker"]["job_queue"]["name"] == "imgbus.jobs");
    CHECK(status["workers"]["running"] == 1);
    CHECK(status["disk"]["available_bytes"].get<double>() > 0);
    CHECK(status["store"]["state"] == "ok");

    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/intake?paused=true").first ==
            200);
    auto [refused, headers] = system.curl("-D - -F image=@" + data("test.jpg"), "/api/jobs");
    CHECK(refused == 503);
    CHECK(headers.find("Retry-After") != std::string::npos);
    CHECK(headers.find("intake_paused") != std::string::npos);
    CHECK(system.get("/api/admin/status")["status"] == "degraded");
    CHECK(system.curl(kAuth + std::string(" -X POST"), "/api/admin/intake?paused=maybe").first ==
          400);
    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/intake?paused=false").first ==
            200);

    auto id = system.upload();
    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/restart-workers").first ==
            202);
    for (int i = 0; i < 100; ++i) {
        status = system.get("/api/admin/status");
        if (!status["operation"]["running"].get<bool>()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(status["operation"]["operation"] == "restart_workers");
    CHECK(status["operation"]["result"] == "1 workers running");
    CHECK(status["workers"]["state"] == "running");

    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/restart").first == 202);
    for (int i = 0; i < 150; ++i) {
        status = system.get("/api/admin/status");
        if (!status["operation"]["running"].get<bool>()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(status["operation"]["operation"] == "ordered_restart");
    CHECK_FALSE(status["intake"]["paused"].get<bool>());
    json job;
    for (int i = 0; i < 100; ++i) {
        job = json::parse(system.curl("", "/api/jobs/" + id).second);
        if (job["status"] == "done") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(job["status"] == "done");
}

TEST_CASE("intake pause reaches the hook and the gauge", "[http][admin]") {
    System system;
    std::mutex mutex;
    std::vector<bool> calls;
    imgbus::http::AdminHooks hooks{system.pool.get(), 1, system.dir, {}};
    hooks.intake_paused = [&](bool paused) {
        std::lock_guard lock(mutex);
        calls.push_back(paused);
    };
    system.frontend->set_admin_hooks(hooks);
    auto recorded = [&] {
        std::lock_guard lock(mutex);
        return calls;
    };
    auto gauge = [&] { return system.metrics.intake_paused().Value(); };

    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/intake?paused=true").first ==
            200);
    CHECK(recorded() == std::vector<bool>{true});
    CHECK(gauge() == 1);
    CHECK(system.get("/api/admin/status")["intake"]["amqp_publishes_held"] == true);
    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/intake?paused=false").first ==
            200);
    CHECK(recorded() == std::vector<bool>{true, false});
    CHECK(gauge() == 0);

    REQUIRE(system.curl(kAuth + std::string(" -X POST"), "/api/admin/restart").first == 202);
    for (int i = 0; i < 150 && system.get("/api/admin/status")["operation"]["running"] == true;
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(recorded() == std::vector<bool>{true, false, true, false});
    CHECK(gauge() == 0);
}
