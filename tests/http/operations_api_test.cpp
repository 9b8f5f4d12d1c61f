// SPDX-License-Identifier: MIT
// An operation registered only in this test is listed by GET /api/operations and runs end to end
// (upload, queue, worker, store, result) through the in-process frontend and worker pool, alone
// and as a pipeline step.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "imgbus/broker/broker.hpp"
#include "imgbus/http/frontend.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/imaging/operation.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "imgbus/worker/worker_pool.hpp"

namespace {

namespace fs = std::filesystem;
namespace imaging = imgbus::imaging;
using nlohmann::json;

// The toy: each colour value rounded to the nearest of `levels` evenly spaced levels.
imaging::Operation make_posterize() {
    imaging::Operation operation;
    operation.name = "posterize_test";
    operation.description = "test-only posterize";
    operation.params = {
        {"levels", "levels per channel", imaging::ParamSpec::Type::integer, 4, 2, 8}};
    operation.kernel = [](const imaging::Image& input, const imaging::ParamValues& params,
                          const imaging::KernelContext&) -> imgbus::Result<imaging::Image> {
        const double step = 255.0 / (params.at("levels") - 1);
        imaging::Image output = input;
        for (auto& value : output.pixels) {
            value = static_cast<std::uint8_t>(std::lround(std::round(value / step) * step));
        }
        return output;
    };
    return operation;
}

std::string run(const std::string& command) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char chunk[4096];
    while (auto n = fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
    pclose(pipe);
    return output;
}

struct ToySystem {
    fs::path dir = fs::temp_directory_path() / ("imgbus-ops-test-" + std::to_string(::getpid()));
    std::unique_ptr<imgbus::broker::Broker> broker = imgbus::broker::make_embedded_broker();
    std::unique_ptr<imgbus::store::ObjectStore> store;
    imgbus::metrics::Metrics metrics;
    boost::asio::io_context io;
    std::unique_ptr<imgbus::worker::WorkerPool> pool;
    std::unique_ptr<imgbus::http::Frontend> frontend;
    std::thread io_thread;
    std::string base;

    ToySystem() {
        fs::remove_all(dir);
        imgbus::store::FilesystemStoreOptions store_options;
        store_options.fsync = false;
        store = imgbus::store::open_filesystem_store(dir, store_options);
        imgbus::worker::WorkerOptions worker_options;
        worker_options.workers = 1;
        pool =
            std::make_unique<imgbus::worker::WorkerPool>(*broker, *store, metrics, worker_options);
        imgbus::http::FrontendOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        frontend = std::make_unique<imgbus::http::Frontend>(io, *broker, *store, metrics, options);
        auto endpoint = frontend->start();
        REQUIRE(endpoint);
        REQUIRE(pool->start());
        base = "http://127.0.0.1:" + std::to_string(endpoint->port());
        io_thread = std::thread([this] { io.run(); });
    }
    ~ToySystem() {
        frontend->stop();
        pool->stop();
        io.stop();
        io_thread.join();
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

    // Uploads the gray test PNG with the form arguments, waits for the job and returns the
    // decoded result.
    imaging::Image process(const std::string& form) {
        auto [status, body] =
            curl("-F image=@" + std::string(IMGBUS_TEST_DATA_DIR) + "/test_gray.png " + form,
                 "/api/jobs");
        INFO(body);
        REQUIRE(status == 202);
        const std::string id = json::parse(body)["jobs"][0]["id"];
        json job = json::object();
        for (int i = 0; i < 400 && job.value("status", "") != "done"; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            job = json::parse(curl("", "/api/jobs/" + id).second);
            REQUIRE(job["status"] != "failed");
        }
        REQUIRE(job["status"] == "done");
        const auto path = dir / ("result-" + id + ".png");
        REQUIRE(curl("-o " + path.string(), "/api/jobs/" + id + "/result").first == 200);
        const auto bytes = run("cat " + path.string());
        auto image = imaging::decode(
            std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
        REQUIRE(image);
        return std::move(*image);
    }
};

bool all_values_in(const imaging::Image& image, std::initializer_list<int> levels) {
    for (auto value : image.pixels) {
        if (std::find(levels.begin(), levels.end(), value) == levels.end()) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("test-only operation runs end to end", "[http][operations]") {
    imaging::OperationRegistry::global().add(make_posterize());
    ToySystem system;

    auto [status, body] = system.curl("", "/api/operations");
    REQUIRE(status == 200);
    const auto operations = json::parse(body)["operations"];
    const auto toy = std::find_if(operations.begin(), operations.end(),
                                  [](const json& op) { return op["name"] == "posterize_test"; });
    REQUIRE(toy != operations.end());
    CHECK((*toy)["params"][0]["name"] == "levels");
    CHECK((*toy)["params"][0]["max"] == 8);
    const auto rotate = std::find_if(operations.begin(), operations.end(),
                                     [](const json& op) { return op["name"] == "rotate"; });
    REQUIRE(rotate != operations.end());
    CHECK((*rotate)["params"][0]["type"] == "choice");
    CHECK((*rotate)["params"][0]["choices"] == json::array({"90", "180", "270"}));

    const auto alone = system.process("-F op=posterize_test -F levels=3");
    CHECK(alone.width == 1920);
    CHECK(all_values_in(alone, {0, 128, 255}));

    const auto piped = system.process("-F op=resize:width=64,posterize_test:levels=2");
    CHECK(piped.width == 64);
    CHECK(piped.height == 36);
    CHECK(all_values_in(piped, {0, 255}));

    auto [bad_status, bad_body] =
        system.curl("-F image=@" + std::string(IMGBUS_TEST_DATA_DIR) +
                        "/test_gray.png -F op=invert,posterize_test:levels=9",
                    "/api/jobs");
    CHECK(bad_status == 400);
    CHECK_THAT(bad_body,
               Catch::Contains("step 2 (posterize_test): parameter 'levels' = 9 is out of "
                               "range 2..8"));
    auto [loose_status, loose_body] =
        system.curl("-F image=@" + std::string(IMGBUS_TEST_DATA_DIR) +
                        "/test_gray.png -F op=invert,sepia " + "-F levels=3",
                    "/api/jobs");
    CHECK(loose_status == 400);
    CHECK_THAT(loose_body, Catch::Contains("put each parameter in its step"));
}
