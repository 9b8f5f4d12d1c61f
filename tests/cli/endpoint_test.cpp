// SPDX-License-Identifier: MIT
#include "endpoint.hpp"

#include <catch2/catch.hpp>

using imgbus::cli::format_endpoint;
using imgbus::cli::parse_endpoint;

TEST_CASE("endpoint parses host and port", "[cli]") {
    auto endpoint = parse_endpoint("127.0.0.1:8080");
    REQUIRE(endpoint.ok());
    CHECK(endpoint->host == "127.0.0.1");
    CHECK(endpoint->port == 8080);
}

TEST_CASE("endpoint accepts bracketed IPv6 and port 0", "[cli]") {
    auto endpoint = parse_endpoint("[::1]:0");
    REQUIRE(endpoint.ok());
    CHECK(endpoint->host == "::1");
    CHECK(endpoint->port == 0);
}

TEST_CASE("endpoint without host binds loopback", "[cli]") {
    auto endpoint = parse_endpoint(":9000");
    REQUIRE(endpoint.ok());
    CHECK(endpoint->host == "127.0.0.1");
}

TEST_CASE("endpoint rejects malformed addresses", "[cli]") {
    for (const char* text :
         {"8080", "host:", "host:http", "host:65536", "host:-1", "::1:80", "host:80x", ""}) {
        INFO("address: " << text);
        auto endpoint = parse_endpoint(text);
        REQUIRE_FALSE(endpoint.ok());
        CHECK(endpoint.error().message.find("HOST:PORT") != std::string::npos);
    }
}

TEST_CASE("endpoint rejects a URL scheme", "[cli]") {
    auto endpoint = parse_endpoint("http://127.0.0.1:1234");
    REQUIRE_FALSE(endpoint.ok());
    CHECK(endpoint.error().message.find("no scheme such as 'http://'") != std::string::npos);
    CHECK(endpoint.error().message.find("HOST:PORT") != std::string::npos);
}

TEST_CASE("endpoint formats IPv6 with brackets", "[cli]") {
    CHECK(format_endpoint("::1", 80) == "[::1]:80");
    CHECK(format_endpoint("127.0.0.1", 80) == "127.0.0.1:80");
}
