// SPDX-License-Identifier: MIT
#include "sse.hpp"

#include <catch2/catch.hpp>

using imgbus::bench::SseParser;

TEST_CASE("sse events split across chunks", "[bench]") {
    SseParser parser;
    parser.feed("event: jo");
    CHECK_FALSE(parser.next());
    parser.feed("b\ndata: {\"id\":1}\n");
    CHECK_FALSE(parser.next());
    parser.feed("\nevent: job\ndata: 2\n\n");
    auto first = parser.next();
    REQUIRE(first);
    CHECK(first->event == "job");
    CHECK(first->data == "{\"id\":1}");
    auto second = parser.next();
    REQUIRE(second);
    CHECK(second->data == "2");
    CHECK_FALSE(parser.next());
}

TEST_CASE("sse comments, CRLF and multi-line data", "[bench]") {
    SseParser parser;
    parser.feed(": keep-alive\r\n\r\ndata: a\r\ndata:b\r");
    CHECK_FALSE(parser.next());
    parser.feed("\n\r\n");
    auto event = parser.next();
    REQUIRE(event);
    CHECK(event->event == "message");
    CHECK(event->data == "a\nb");
    CHECK_FALSE(parser.next());
}

TEST_CASE("sse block without data dispatches nothing", "[bench]") {
    SseParser parser;
    parser.feed("event: job\nid: 7\n\n");
    CHECK_FALSE(parser.next());
    parser.feed("data: x\n\n");
    auto event = parser.next();
    REQUIRE(event);
    CHECK(event->event == "message");
}
