// SPDX-License-Identifier: MIT
// run_load against a scripted HTTP server in the test process: the retry and follow logic of
// one module, without the rest of imgbus. End-to-end runs against `imgbus serve` are in
// tests/e2e/test_load_bench.py.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "imgbus/bench/load.hpp"

using namespace imgbus::bench;
namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

namespace {

// Responds to each request on its own connection (Connection: close): the first `rejections`
// uploads get 503 with Retry-After: 1, later ones 202; the event stream is absent (404), so the
// client polls, and the job is done at the first poll.
class ScriptedServer {
  public:
    explicit ScriptedServer(int rejections)
        : rejections_(rejections), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedServer() {
        stopping_ = true;
        boost::system::error_code ignored;
        asio::ip::tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ignored);
        thread_.join();
    }

    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    int uploads() const { return uploads_; }
    std::vector<double> upload_times() {
        std::lock_guard lock(mutex_);
        return upload_times_;
    }

  private:
    void serve() {
        while (!stopping_) {
            asio::ip::tcp::socket socket(io_);
            boost::system::error_code error;
            acceptor_.accept(socket, error);
            if (error || stopping_) {
                continue;
            }
            answer(socket);
        }
    }

    void answer(asio::ip::tcp::socket& socket) {
        boost::beast::flat_buffer buffer;
        beast_http::request<beast_http::string_body> request;
        boost::system::error_code error;
        beast_http::read(socket, buffer, request, error);
        if (error) {
            return;
        }
        beast_http::response<beast_http::string_body> response{beast_http::status::not_found, 11};
        response.set(beast_http::field::content_type, "application/json");
        response.body() = R"({"error":"not_found","message":"no route"})";
        if (request.method() == beast_http::verb::post && request.target() == "/api/jobs") {
            upload(response);
        } else if (request.target() == "/api/jobs/j1") {
            response.result(beast_http::status::ok);
            response.body() =
                R"({"id":"j1","status":"done","timings":{"queue_wait_ms":1,"kernel_ms":2,"process_ms":3,"total_ms":4}})";
        }
        response.keep_alive(false);
        response.prepare_payload();
        beast_http::write(socket, response, error);
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, error);
    }

    void upload(beast_http::response<beast_http::string_body>& response) {
        {
            std::lock_guard lock(mutex_);
            upload_times_.push_back(
                std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                    .count());
        }
        if (uploads_++ < rejections_) {
            response.result(beast_http::status::service_unavailable);
            response.set(beast_http::field::retry_after, "1");
            response.body() = R"({"error":"queue_full","message":"the job queue is full"})";
            return;
        }
        response.result(beast_http::status::accepted);
        response.body() = R"({"batch":"b1","jobs":[{"id":"j1","status":"queued"}]})";
    }

    int rejections_;
    std::atomic<int> uploads_{0};
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::vector<double> upload_times_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

std::string write_image() {
    const auto path = std::filesystem::temp_directory_path() / "imgbus_load_test.jpg";
    std::ofstream(path, std::ios::binary) << "\xff\xd8\xff\xe0 not decoded by this server";
    return path.string();
}

LoadOptions options_for(const ScriptedServer& server, int retries) {
    LoadOptions options;
    options.url = server.url();
    options.image_path = write_image();
    options.count = 1;
    options.retries = retries;
    options.timeout_seconds = 20;
    options.progress = ProgressMode::none;
    return options;
}

}  // namespace

TEST_CASE("load retries 503 after retry-after", "[bench]") {
    ScriptedServer server(2);
    auto report = run_load(options_for(server, 3));
    REQUIRE(report.ok());
    const auto& request = report->requests.at(0);
    INFO(request.message);
    CHECK(request.ok);
    CHECK(request.attempts == 3);
    CHECK(request.followed_by == "polling");
    CHECK(request.retry_wait_seconds >= 2.0);
    REQUIRE(request.server.has_value());
    CHECK(request.server->total_ms == 4);

    const auto times = server.upload_times();
    REQUIRE(times.size() == 3);
    // Each retry waits at least the server's Retry-After of 1 s.
    CHECK(times[1] - times[0] >= 0.99);
    CHECK(times[2] - times[1] >= 0.99);
    CHECK(report->summary.retries == 2);
    CHECK(report->summary.success_percent == 100);
}

TEST_CASE("load gives up after its retries", "[bench]") {
    ScriptedServer server(10);
    auto report = run_load(options_for(server, 1));
    REQUIRE(report.ok());
    const auto& request = report->requests.at(0);
    CHECK_FALSE(request.ok);
    CHECK(request.reason == "http_503");
    CHECK(request.attempts == 2);
    CHECK_THAT(request.message, Catch::Contains("the job queue is full"));
    CHECK(server.uploads() == 2);
    CHECK(report->summary.failures_by_reason.at("http_503") == 1);
}

TEST_CASE("load without a server fails by connection", "[bench]") {
    LoadOptions options;
    {
        ScriptedServer server(0);
        options = options_for(server, 0);
    }
    options.timeout_seconds = 5;
    auto report = run_load(options);
    REQUIRE(report.ok());
    CHECK(report->requests.at(0).reason == "connection");
    CHECK_THAT(report->requests.at(0).message, Catch::Contains("cannot connect"));
}

TEST_CASE("load rejects bad options before sending", "[bench]") {
    LoadOptions options;
    options.image_path = "/nonexistent/image.jpg";
    auto missing = run_load(options);
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/image.jpg"));

    options.concurrency = 0;
    auto zero = run_load(options);
    REQUIRE_FALSE(zero.ok());
    CHECK_THAT(zero.error().message, Catch::Contains("--concurrency 0"));

    options.concurrency = 1;
    options.url = "ftp://127.0.0.1";
    options.image_path = write_image();
    auto bad_url = run_load(options);
    REQUIRE_FALSE(bad_url.ok());
    CHECK_THAT(bad_url.error().message, Catch::Contains("ftp://127.0.0.1"));
}
