// SPDX-License-Identifier: MIT
#include "queue_table.hpp"

#include <catch2/catch.hpp>
#include <iterator>
#include <sstream>

#include "management_client.hpp"

using imgbus::cli::format_queue_table;
using imgbus::cli::parse_queue_rows;
using nlohmann::json;

TEST_CASE("queue rows read imgbus's and RabbitMQ's answers", "[cli][queues]") {
    // RabbitMQ leaves out message_stats on a queue without traffic.
    auto rows = parse_queue_rows(json::parse(R"([
        {"name": "imgbus.jobs", "vhost": "/", "messages_ready": 7, "messages_unacknowledged": 2,
         "consumers": 1, "message_stats": {"publish": 9, "publish_details": {"rate": 1.5},
         "deliver_get_details": {"rate": 0.5}, "ack_details": {"rate": 0.25}}},
        {"name": "idle", "vhost": "/", "messages_ready": 0, "consumers": 0},
        {"vhost": "/"}, 42])"));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].ready == 7);
    CHECK(rows[0].unacked == 2);
    CHECK(rows[0].publish_rate == 1.5);
    CHECK(rows[0].ack_rate == 0.25);
    CHECK(rows[1].unacked == 0);
    CHECK(rows[1].publish_rate == 0);

    auto table = format_queue_table(rows);
    CHECK(table.find("queue") == 0);
    auto line = table.substr(table.find('\n') + 1);
    line = line.substr(0, line.find('\n'));
    std::istringstream fields(line);
    std::vector<std::string> cells{std::istream_iterator<std::string>(fields), {}};
    CHECK(cells == std::vector<std::string>{"imgbus.jobs", "7", "2", "1", "1.5", "0.5", "0.2"});
    CHECK(parse_queue_rows(json::object()).empty());
    CHECK(format_queue_table({}).find("(no queues)") != std::string::npos);
}

TEST_CASE("queue table shows the vhost when one is not /", "[cli][queues]") {
    auto rows = parse_queue_rows(json::parse(R"([{"name": "q", "vhost": "prod"}])"));
    CHECK(format_queue_table(rows).find("prod q") != std::string::npos);
}

TEST_CASE("management URLs and path segments", "[cli][queues]") {
    auto url = imgbus::cli::parse_http_url("http://127.0.0.1:15672/rabbit/");
    REQUIRE(url);
    CHECK(url->host == "127.0.0.1");
    CHECK(url->port == "15672");
    CHECK(url->prefix == "/rabbit");
    auto ipv6 = imgbus::cli::parse_http_url("http://[::1]:8080");
    REQUIRE(ipv6);
    CHECK(ipv6->host == "::1");
    CHECK(imgbus::cli::parse_http_url("http://localhost")->port == "80");

    auto https = imgbus::cli::parse_http_url("https://127.0.0.1:15671");
    REQUIRE_FALSE(https);
    CHECK(https.error().message.find("http://") != std::string::npos);
    CHECK_FALSE(imgbus::cli::parse_http_url("http://127.0.0.1:99999"));
    CHECK_FALSE(imgbus::cli::parse_http_url("http://:8080"));

    CHECK(imgbus::cli::encode_path_segment("/") == "%2F");
    CHECK(imgbus::cli::encode_path_segment("imgbus.jobs") == "imgbus.jobs");
    CHECK(imgbus::cli::encode_path_segment("a b/c") == "a%20b%2Fc");
}
