// SPDX-License-Identifier: MIT
#include "imgbus/amqp/client.hpp"

#include <catch2/catch.hpp>

using namespace imgbus::amqp;
using std::chrono::milliseconds;

TEST_CASE("broker URL with user, password, port and vhost", "[amqp]") {
    auto url = parse_broker_url("amqp://worker:s3cret@10.0.0.5:5673/prod");
    REQUIRE(url.ok());
    CHECK(url->host == "10.0.0.5");
    CHECK(url->port == 5673);
    CHECK(url->username == "worker");
    CHECK(url->password == "s3cret");
    CHECK(url->vhost == "prod");
    CHECK(url->has_credentials);
}

TEST_CASE("broker URL defaults: port 5672, vhost / and no credentials", "[amqp]") {
    for (const char* text : {"amqp://127.0.0.1", "amqp://127.0.0.1/", "amqp://127.0.0.1/%2F"}) {
        auto url = parse_broker_url(text);
        REQUIRE(url.ok());
        CHECK(url->port == 5672);
        CHECK(url->vhost == "/");
        CHECK_FALSE(url->has_credentials);
        CHECK(url->username.empty());
    }
}

TEST_CASE("broker URL parts are percent-decoded", "[amqp]") {
    auto url = parse_broker_url("amqp://us%40er:p%3Ass%2Fw@[::1]:5672/%2Fteam%20a");
    REQUIRE(url.ok());
    CHECK(url->username == "us@er");
    CHECK(url->password == "p:ss/w");
    CHECK(url->host == "::1");
    CHECK(url->vhost == "/team a");
}

TEST_CASE("bad broker URLs name what is wrong", "[amqp]") {
    struct Case {
        const char* url;
        const char* says;
    };
    for (auto [text, says] :
         {Case{"http://host", "amqp://"}, Case{"amqps://host", "TLS"},
          Case{"amqp://host:99999", "port"}, Case{"amqp://host:x", "port"},
          Case{"amqp://u:p%zz@host", "percent"}, Case{"amqp://:5672", "host"},
          Case{"amqp://host/v%2", "percent"}, Case{"amqp://:pw@host", "user"}}) {
        auto url = parse_broker_url(text);
        INFO(text);
        REQUIRE_FALSE(url.ok());
        CHECK(url.error().code == imgbus::broker::Errc::invalid_argument);
        CHECK_THAT(url.error().message, Catch::Contains(says));
    }
}

TEST_CASE("a raw '/', '+' or '@' in the password stays in the password", "[amqp]") {
    // serve's generated secrets hold '/' and '+', and the docs tell users to reuse them.
    auto url = parse_broker_url("amqp://AK:Cpe5Bk/x+y@z/w@127.0.0.1:5673/%2F");
    REQUIRE(url.ok());
    CHECK(url->username == "AK");
    CHECK(url->password == "Cpe5Bk/x+y@z/w");
    CHECK(url->host == "127.0.0.1");
    CHECK(url->port == 5673);
    CHECK(url->vhost == "/");
    auto bare = parse_broker_url("amqp://AK:a/b@broker.example");
    REQUIRE(bare.ok());
    CHECK(bare->password == "a/b");
    CHECK(bare->host == "broker.example");
    CHECK(bare->vhost == "/");
}

TEST_CASE("errors in a broker URL never echo the user or password", "[amqp]") {
    for (const char* text :
         {"amqp://AK:SeCrEt/9x@127.0.0.1:bad/%2F", "amqp://AK:SeCrEt/9x@:5672/%2F",
          "amqp://AK:SeCrEt%zz@127.0.0.1:5672/%2F", "amqp://AK:SeCrEt/9x@127.0.0.1:5672/v%2",
          "amqp://AK:SeCrEt9x@127.0.0.1:99999/%2F", "amqp://AK:SeCrEt9x/%2F",
          "amqp://AK:SeCrEt/9x@127.0.0.1:5672/v?x=1"}) {
        auto url = parse_broker_url(text);
        INFO(text);
        REQUIRE_FALSE(url.ok());
        CHECK(url.error().message.find("SeCrEt") == std::string::npos);
        CHECK(url.error().message.find("AK") == std::string::npos);
    }
}

TEST_CASE("the redacted URL never contains the password", "[amqp]") {
    auto url = parse_broker_url("amqp://admin:hunter2@broker.example:5672/%2F");
    REQUIRE(url.ok());
    const auto text = redacted_url(*url);
    CHECK(text == "amqp://admin@broker.example:5672/%2F");
    CHECK(text.find("hunter2") == std::string::npos);
}

TEST_CASE("back-off doubles from the initial delay up to the cap", "[amqp]") {
    const BackoffOptions options{milliseconds{200}, milliseconds{10'000}};
    // With the largest jitter factor (unit_random near 1) the delay is the capped doubling.
    CHECK(backoff_delay(options, 1, 1.0) == milliseconds{200});
    CHECK(backoff_delay(options, 2, 1.0) == milliseconds{400});
    CHECK(backoff_delay(options, 3, 1.0) == milliseconds{800});
    CHECK(backoff_delay(options, 6, 1.0) == milliseconds{6'400});
    CHECK(backoff_delay(options, 7, 1.0) == milliseconds{10'000});
    CHECK(backoff_delay(options, 1000, 1.0) == milliseconds{10'000});
}

TEST_CASE("back-off jitter keeps the delay between half and all of the step", "[amqp]") {
    const BackoffOptions options{milliseconds{200}, milliseconds{10'000}};
    CHECK(backoff_delay(options, 1, 0.0) == milliseconds{100});
    CHECK(backoff_delay(options, 3, 0.5) == milliseconds{600});
    CHECK(backoff_delay(options, 20, 0.0) == milliseconds{5'000});
    for (double r = 0.0; r < 1.0; r += 0.125) {
        const auto delay = backoff_delay(options, 4, r);
        CHECK(delay >= milliseconds{800});
        CHECK(delay <= milliseconds{1'600});
    }
}
