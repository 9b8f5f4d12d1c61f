// SPDX-License-Identifier: MIT
#include "serve_roles.hpp"

#include <catch2/catch.hpp>

using imgbus::cli::check_bucket_flag;
using imgbus::cli::check_roles;
using imgbus::cli::is_off;
using imgbus::cli::ServeRoles;

namespace {

bool mentions(const imgbus::Result<void>& result, const std::string& text) {
    return !result && result.error().message.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("serve roles accept every topology of the deployment guide", "[cli]") {
    CHECK(check_roles({}));                                 // all in one
    CHECK(check_roles({.frontend = false, .workers = 0}));  // broker and store only
    CHECK(check_roles({.frontend = false, .amqp_listener = false, .workers = 0}));  // store only
    CHECK(check_roles({.s3_listener = false,
                       .amqp_listener = false,
                       .external_broker = true,
                       .external_store = true,
                       .workers = 0}));  // frontend only
    CHECK(check_roles({.frontend = false,
                       .s3_listener = false,
                       .amqp_listener = false,
                       .external_broker = true,
                       .external_store = true}));  // workers only
}

TEST_CASE("serve roles reject a process with nothing to run", "[cli]") {
    auto rejected = check_roles(
        {.frontend = false, .s3_listener = false, .amqp_listener = false, .workers = 0});
    CHECK(mentions(rejected, "--http off, --s3 off, --amqp off and --workers 0"));
    rejected = check_roles({.frontend = false,
                            .s3_listener = false,
                            .amqp_listener = false,
                            .external_broker = true,
                            .workers = 0});
    CHECK(mentions(rejected, "--broker (no AMQP listener)"));
}

TEST_CASE("serve roles reject an embedded broker or store that nothing else reaches", "[cli]") {
    CHECK(mentions(check_roles({.amqp_listener = false, .workers = 0}), "--amqp off"));
    CHECK(mentions(check_roles({.s3_listener = false, .workers = 0}), "--s3 off"));
    CHECK(mentions(check_roles({.frontend = false, .amqp_listener = false}), "--http off"));
    CHECK(mentions(check_roles({.frontend = false, .s3_listener = false}), "--store URL"));
    CHECK(check_roles({.amqp_listener = false, .external_broker = true, .workers = 0}));
}

TEST_CASE("only the exact word off turns a listener off", "[cli]") {
    CHECK(is_off("off"));
    CHECK_FALSE(is_off("OFF"));
    CHECK_FALSE(is_off(""));
    CHECK_FALSE(is_off("127.0.0.1:0"));
}

TEST_CASE("the bucket flag takes S3 bucket names and names the value it rejects", "[cli]") {
    CHECK(check_bucket_flag("imgbus"));
    CHECK(check_bucket_flag("my-team.images-2"));
    for (const char* bad : {"ab", "Images", "under_score", "-dash", "a..b", "192.168.1.1"}) {
        auto rejected = check_bucket_flag(bad);
        CHECK(mentions(rejected, std::string("--bucket: invalid bucket name '") + bad + "'"));
        CHECK(mentions(rejected, "lowercase letters"));
    }
}
