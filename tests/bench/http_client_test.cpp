// SPDX-License-Identifier: MIT
#include "http_client.hpp"

#include <catch2/catch.hpp>

using imgbus::bench::parse_server_url;

TEST_CASE("server url with host, port and path", "[bench]") {
    auto url = parse_server_url("http://127.0.0.1:8080");
    REQUIRE(url.ok());
    CHECK(url->host == "127.0.0.1");
    CHECK(url->port == "8080");
    CHECK(url->base_path.empty());

    auto prefixed = parse_server_url("http://example.test/imgbus/");
    REQUIRE(prefixed.ok());
    CHECK(prefixed->port == "80");
    CHECK(prefixed->base_path == "/imgbus");
    CHECK(prefixed->to_string() == "http://example.test:80/imgbus");
}

TEST_CASE("server url with an IPv6 host", "[bench]") {
    auto url = parse_server_url("http://[::1]:9090/");
    REQUIRE(url.ok());
    CHECK(url->host == "::1");
    CHECK(url->port == "9090");
    CHECK(url->to_string() == "http://[::1]:9090");
}

TEST_CASE("server url errors name the fix", "[bench]") {
    auto https = parse_server_url("https://127.0.0.1");
    REQUIRE_FALSE(https.ok());
    CHECK_THAT(https.error().message, Catch::Contains("https is not supported"));
    CHECK_FALSE(parse_server_url("127.0.0.1:8080").ok());
    CHECK_FALSE(parse_server_url("http://:8080").ok());
    CHECK_FALSE(parse_server_url("http://[::1:8080").ok());
    CHECK_FALSE(parse_server_url("http://host:99999").ok());
    CHECK_FALSE(parse_server_url("http://host:12ab").ok());
    CHECK_FALSE(parse_server_url("http://host:0").ok());
    CHECK_FALSE(parse_server_url("http://host:").ok());
    auto no_scheme = parse_server_url("localhost");
    REQUIRE_FALSE(no_scheme.ok());
    CHECK_THAT(no_scheme.error().message, Catch::Contains("http://HOST:PORT"));
}
