// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <string>

#include "imgbus/store/object_store.hpp"
#include "text.hpp"

using imgbus::store::Errc;
using imgbus::store::validate_bucket_name;
using imgbus::store::validate_key;

TEST_CASE("hostile keys are rejected as invalid_key", "[store]") {
    const std::string hostile[] = {
        "",
        "..",
        ".",
        "a/../b",
        "a/./b",
        "../etc/passwd",
        "a/..",
        "/x",
        std::string("a\0b", 3),
        std::string(1025, 'k'),
        "bad\xff utf8",
        "\xc0\xaf",          // overlong '/'
        "\xed\xa0\x80",      // UTF-16 surrogate
        "\xf4\x90\x80\x80",  // above U+10FFFF
        "cut \xe2\x82",      // truncated sequence
    };
    for (const auto& key : hostile) {
        CAPTURE(key);
        auto result = validate_key(key);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::invalid_key);
        CHECK_THAT(result.error().message, Catch::StartsWith("invalid object key: "));
    }
}

TEST_CASE("key errors name the problem", "[store]") {
    CHECK_THAT(validate_key("a/../b").error().message, Catch::Contains("'..' path segment"));
    CHECK_THAT(validate_key("/x").error().message, Catch::Contains("remove the leading slash"));
    CHECK_THAT(validate_key(std::string(1025, 'k')).error().message,
               Catch::Contains("1025 bytes; the maximum is 1024"));
    CHECK_THAT(validate_key(std::string("a\0b", 3)).error().message,
               Catch::Contains("NUL byte at offset 1"));
    CHECK_THAT(validate_key("ok\xff").error().message,
               Catch::Contains("not valid UTF-8 at byte offset 2"));
}

TEST_CASE("ordinary and unusual keys are valid", "[store]") {
    const std::string valid[] = {
        "a",
        "a//b",
        "dir/file.jpg",
        "a/.../b",
        "..a/b..",
        "trailing/",
        "f\xc3\xbcr/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80.png",
        std::string(1024, 'k'),
    };
    for (const auto& key : valid) {
        CAPTURE(key);
        CHECK(validate_key(key).ok());
    }
}

TEST_CASE("bucket names follow S3 rules", "[store]") {
    const std::string invalid[] = {
        "ab",         "UPPER",
        "a..b",       "192.168.0.1",
        "-abc",       "abc-",
        ".abc",       "ab_c",
        "a b",        std::string(64, 'a'),
        "xn--abc",    "abc-s3alias",
        "sthree-abc", "",
        "abc/def",    "..",
        "ab\xff",
    };
    for (const auto& name : invalid) {
        CAPTURE(name);
        auto result = validate_bucket_name(name);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == Errc::invalid_bucket_name);
        CHECK_THAT(result.error().message, Catch::Contains("invalid bucket name"));
    }
    const std::string valid[] = {"abc",   "images",       "my.bucket-1",
                                 "1.2.3", "192.168.0.1a", std::string(63, 'a')};
    for (const auto& name : valid) {
        CAPTURE(name);
        CHECK(validate_bucket_name(name).ok());
    }
}

TEST_CASE("bucket error names the value", "[store]") {
    auto message = validate_bucket_name("UPPER").error().message;
    CHECK_THAT(message, Catch::Contains("'UPPER'"));
    CHECK_THAT(message, Catch::Contains("lowercase"));
}

TEST_CASE("utf8 check finds the first bad byte", "[store]") {
    using imgbus::store::find_invalid_utf8;
    CHECK_FALSE(find_invalid_utf8("plain ascii").has_value());
    CHECK_FALSE(find_invalid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80").has_value());
    CHECK(find_invalid_utf8("ab\x80") == 2u);
    CHECK(find_invalid_utf8("\xe0\x80\x80") == 0u);  // overlong 3-byte form
    CHECK(find_invalid_utf8("x\xf5\x80\x80\x80") == 1u);
}

TEST_CASE("quoted values stay printable", "[store]") {
    using imgbus::store::quote_for_message;
    CHECK(quote_for_message("abc") == "'abc'");
    CHECK(quote_for_message("a\nb\xff") == "'a\\x0ab\\xff'");
    CHECK(quote_for_message(std::string(100, 'z'), 4) == "'zzzz'... (100 bytes)");
}
