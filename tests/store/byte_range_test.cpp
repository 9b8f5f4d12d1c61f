// SPDX-License-Identifier: MIT
#include "imgbus/store/byte_range.hpp"

#include <catch2/catch.hpp>

using imgbus::store::etag_listed;
using imgbus::store::resolve_range;
using Kind = imgbus::store::RangeRequest::Kind;

TEST_CASE("a range header resolves to the bytes it names, clamped to the object", "[store]") {
    auto first = resolve_range("bytes=100-199", 1000);
    CHECK(first.kind == Kind::partial);
    CHECK(first.bytes.first == 100);
    CHECK(first.bytes.length == 100);

    auto open_end = resolve_range("bytes=990-", 1000);
    CHECK(open_end.kind == Kind::partial);
    CHECK(open_end.bytes.first == 990);
    CHECK(open_end.bytes.length == 10);

    auto past_end = resolve_range("bytes=900-5000", 1000);
    CHECK(past_end.bytes.length == 100);

    auto suffix = resolve_range("bytes=-10", 1000);
    CHECK(suffix.kind == Kind::partial);
    CHECK(suffix.bytes.first == 990);
    CHECK(suffix.bytes.length == 10);

    auto long_suffix = resolve_range("bytes=-5000", 1000);
    CHECK(long_suffix.bytes.first == 0);
    CHECK(long_suffix.bytes.length == 1000);
}

TEST_CASE("a range that starts past the end is unsatisfiable", "[store]") {
    CHECK(resolve_range("bytes=1000-", 1000).kind == Kind::unsatisfiable);
    CHECK(resolve_range("bytes=-0", 1000).kind == Kind::unsatisfiable);
    CHECK(resolve_range("bytes=0-", 0).kind == Kind::unsatisfiable);
}

TEST_CASE("range headers that HTTP lets a server ignore give the whole object", "[store]") {
    for (const char* header : {"", "items=0-10", "bytes=0-1,5-6", "bytes=5", "bytes=9-3",
                               "bytes=a-b", "bytes=-", "bytes=1-2x"}) {
        INFO(header);
        CHECK(resolve_range(header, 1000).kind == Kind::whole);
    }
}

TEST_CASE("an ETag list matches quoted, bare, weak and wildcard entries", "[store]") {
    CHECK(etag_listed("\"abc\"", "abc"));
    CHECK(etag_listed("abc", "abc"));
    CHECK(etag_listed("W/\"abc\"", "abc"));
    CHECK(etag_listed("\"x\", \"abc\"", "abc"));
    CHECK(etag_listed("*", "abc"));
    CHECK_FALSE(etag_listed("\"abcd\"", "abc"));
    CHECK_FALSE(etag_listed("\"\"", "abc"));
    CHECK_FALSE(etag_listed("", "abc"));
}
