// SPDX-License-Identifier: MIT
#include "router.hpp"

#include <catch2/catch.hpp>

using boost::beast::http::verb;
using imgbus::http::Router;
using imgbus::http::Status;

namespace {

imgbus::http::Response reply(const std::string& text) {
    return imgbus::http::make_response(Status::ok, text, "text/plain");
}

}  // namespace

TEST_CASE("router matches patterns and params", "[http][router]") {
    Router router;
    router.add(verb::get, "/api/jobs/{id}",
               [](const auto&, const auto& params) { return reply(params.at("id")); });
    router.add(verb::get, "/api/jobs/{id}/result",
               [](const auto&, const auto&) { return reply("result"); });
    router.add(verb::post, "/api/jobs", [](const auto&, const auto&) { return reply("post"); });

    auto match = router.match(verb::get, "/api/jobs/abc");
    REQUIRE(match.status == Status::ok);
    CHECK(match.pattern == "/api/jobs/{id}");
    CHECK(match.params.at("id") == "abc");

    CHECK(router.match(verb::get, "/api/jobs/abc/result").pattern == "/api/jobs/{id}/result");
    CHECK(router.match(verb::get, "/api/jobs/").status == Status::not_found);
    CHECK(router.match(verb::get, "/api/jobs/a/b/c").status == Status::not_found);
    CHECK(router.match(verb::head, "/api/jobs/abc").status == Status::ok);

    auto wrong = router.match(verb::delete_, "/api/jobs");
    CHECK(wrong.status == Status::method_not_allowed);
    CHECK(wrong.allow == "POST");

    imgbus::http::Request request{verb::delete_, "/api/jobs", 11};
    auto response = router.dispatch(request, wrong).response;
    CHECK(response.result() == Status::method_not_allowed);
    CHECK(response.body().find("\"error\":\"method_not_allowed\"") != std::string::npos);
}

TEST_CASE("query parsing decodes and rejects bad escapes", "[http][router]") {
    auto query = imgbus::http::parse_query("/api/jobs?threads=1%2C2&op=gray+scale&flag&=x");
    REQUIRE(query);
    CHECK(query->at("threads") == "1,2");
    CHECK(query->at("op") == "gray scale");
    CHECK(query->at("flag").empty());
    CHECK(imgbus::http::target_path("/a/b?c=d") == "/a/b");

    CHECK_FALSE(imgbus::http::parse_query("/x?a=%zz"));
    CHECK_FALSE(imgbus::http::parse_query("/x?a=%4"));
    CHECK_FALSE(imgbus::http::parse_query("/x?a=%00"));
}
