// SPDX-License-Identifier: MIT
#include "uri.hpp"

#include <catch2/catch.hpp>

#include "crypto.hpp"
#include "time_format.hpp"

using namespace imgbus::s3;

TEST_CASE("percent decode rejects bad escapes", "[s3]") {
    CHECK(percent_decode("a%20b") == std::optional<std::string>("a b"));
    CHECK(percent_decode("%2f%2F") == std::optional<std::string>("//"));
    CHECK(percent_decode("a+b") == std::optional<std::string>("a+b"));
    CHECK(percent_decode("a+b", true) == std::optional<std::string>("a b"));
    CHECK(percent_decode("%00") == std::optional<std::string>(std::string(1, '\0')));
    CHECK_FALSE(percent_decode("%").has_value());
    CHECK_FALSE(percent_decode("%2").has_value());
    CHECK_FALSE(percent_decode("%zz").has_value());
    CHECK_FALSE(percent_decode("abc%4").has_value());
}

TEST_CASE("uri encode follows SigV4 rules", "[s3]") {
    CHECK(uri_encode("a b/c~d_e.f-g", true) == "a%20b/c~d_e.f-g");
    CHECK(uri_encode("a b/c", false) == "a%20b%2Fc");
    CHECK(uri_encode("$+=&\xc3\xa9", false) == "%24%2B%3D%26%C3%A9");
}

TEST_CASE("canonical query sorts and encodes", "[s3]") {
    auto params = parse_query("prefix=a%20b&list-type=2&delimiter=%2F&empty&x=1&x=0");
    REQUIRE(params.has_value());
    CHECK(canonical_query(*params) == "delimiter=%2F&empty=&list-type=2&prefix=a%20b&x=0&x=1");
    CHECK(canonical_query(*params, "x") == "delimiter=%2F&empty=&list-type=2&prefix=a%20b");
    CHECK_FALSE(parse_query("a=%G0").has_value());
}

TEST_CASE("dates parse and format", "[s3]") {
    const auto time = parse_amz_date("20130524T000000Z");
    REQUIRE(time.has_value());
    CHECK(format_http_date(*time) == "Fri, 24 May 2013 00:00:00 GMT");
    CHECK(format_iso8601(*time) == "2013-05-24T00:00:00.000Z");
    CHECK(parse_http_date("Fri, 24 May 2013 00:00:00 GMT") == time);
    CHECK_FALSE(parse_amz_date("20131324T000000Z").has_value());
    CHECK_FALSE(parse_amz_date("2013-05-24T00:00:00Z").has_value());
    CHECK_FALSE(parse_http_date("Fri, 24 Foo 2013 00:00:00 GMT").has_value());
    CHECK_FALSE(parse_http_date("").has_value());
}

TEST_CASE("base64 round trip and rejects junk", "[s3]") {
    const std::vector<std::uint8_t> bytes{0, 1, 2, 250, 251};
    const auto text = base64_encode(bytes);
    CHECK(text == "AAEC+vs=");
    CHECK(base64_decode(text) == bytes);
    CHECK_FALSE(base64_decode("AAE").has_value());
    CHECK_FALSE(base64_decode("AA*=").has_value());
    CHECK_FALSE(base64_decode("").has_value());
}
