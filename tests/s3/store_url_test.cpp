// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "imgbus/s3/client.hpp"

using imgbus::s3::Credentials;
using imgbus::s3::open_s3_store;

TEST_CASE("a store URL with a user or password is refused without echoing it", "[s3]") {
    const Credentials credentials{"AKIDEXAMPLE", "example-secret"};
    for (const char* url :
         {"http://UsEr:PaSs@127.0.0.1:9000", "http://UsEr:Pa/Ss@127.0.0.1:9000",
          "https://UsEr@store.example", "s3://UsEr:PaSs@store.example?region=x"}) {
        INFO(url);
        auto store = open_s3_store(url, credentials);
        REQUIRE_FALSE(store.ok());
        const auto& message = store.error().message;
        CHECK(message.find("UsEr") == std::string::npos);
        CHECK(message.find("PaSs") == std::string::npos);
        CHECK(message.find("Ss@") == std::string::npos);
        CHECK_THAT(message, Catch::Contains("--access-key"));
        CHECK_THAT(message, Catch::Contains("IMGBUS_ACCESS_KEY"));
    }
}

TEST_CASE("a store URL without a user still opens", "[s3]") {
    auto store = open_s3_store("http://127.0.0.1:9000", Credentials{"AKIDEXAMPLE", "secret"});
    CHECK(store.ok());
}
