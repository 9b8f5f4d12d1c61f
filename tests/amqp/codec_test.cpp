// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "imgbus/amqp/content.hpp"
#include "imgbus/amqp/frame.hpp"
#include "imgbus/amqp/method.hpp"

using namespace imgbus::amqp;
using imgbus::broker::FieldTable;
using imgbus::broker::FieldValue;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The payload of the first frame in `frames` (header and frame-end stripped).
std::string first_payload(const std::string& frames) {
    REQUIRE(frames.size() >= kFrameOverheadBytes);
    std::array<std::uint8_t, kFrameHeaderBytes> head{};
    std::memcpy(head.data(), frames.data(), head.size());
    auto header = decode_frame_header(head, 1 << 20);
    REQUIRE(header.ok());
    REQUIRE(frames.size() >= kFrameOverheadBytes + header->payload_size);
    REQUIRE(static_cast<std::uint8_t>(frames[kFrameHeaderBytes + header->payload_size]) ==
            kFrameEnd);
    return frames.substr(kFrameHeaderBytes, header->payload_size);
}

template <class M>
M round_trip(const M& method) {
    std::string frames;
    append_method_frame(frames, 3, method);
    auto decoded = decode_method(bytes_of(first_payload(frames)));
    INFO((decoded.ok() ? "" : decoded.error().message));
    REQUIRE(decoded.ok());
    REQUIRE(std::holds_alternative<M>(*decoded));
    return std::get<M>(*decoded);
}

Errc code_of(const imgbus::Error& error) { return static_cast<Errc>(error.code.value()); }

std::string method_payload(std::uint16_t class_id, std::uint16_t method_id,
                           const std::string& arguments) {
    std::string out;
    out.push_back(static_cast<char>(class_id >> 8));
    out.push_back(static_cast<char>(class_id & 0xFF));
    out.push_back(static_cast<char>(method_id >> 8));
    out.push_back(static_cast<char>(method_id & 0xFF));
    return out + arguments;
}

}  // namespace

TEST_CASE("frame header decodes type, channel and size", "[amqp]") {
    const std::array<std::uint8_t, 7> bytes = {1, 0, 5, 0, 0, 0x10, 0};
    auto header = decode_frame_header(bytes, 131072);
    REQUIRE(header.ok());
    CHECK(header->type == FrameType::method);
    CHECK(header->channel == 5);
    CHECK(header->payload_size == 4096);
}

TEST_CASE("frame header rejects an unknown type", "[amqp]") {
    const std::array<std::uint8_t, 7> bytes = {7, 0, 1, 0, 0, 0, 4};
    auto header = decode_frame_header(bytes, 131072);
    REQUIRE_FALSE(header.ok());
    CHECK(code_of(header.error()) == Errc::frame_error);
    CHECK_THAT(header.error().message, Catch::Contains("type 7"));
}

TEST_CASE("frame header rejects a frame above frame-max", "[amqp]") {
    // 4096 payload + 8 bytes of overhead exceeds a frame-max of 4096.
    const std::array<std::uint8_t, 7> bytes = {3, 0, 1, 0, 0, 0x10, 0};
    auto header = decode_frame_header(bytes, 4096);
    REQUIRE_FALSE(header.ok());
    CHECK(code_of(header.error()) == Errc::frame_error);
    const std::array<std::uint8_t, 7> huge = {3, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK_FALSE(decode_frame_header(huge, 0xFFFFFFFF).ok());
}

TEST_CASE("heartbeat on a nonzero channel is a frame error", "[amqp]") {
    const std::array<std::uint8_t, 7> bytes = {8, 0, 2, 0, 0, 0, 0};
    auto header = decode_frame_header(bytes, 131072);
    REQUIRE_FALSE(header.ok());
    CHECK(code_of(header.error()) == Errc::frame_error);
}

TEST_CASE("frame end must be 0xCE", "[amqp]") {
    CHECK(check_frame_end(0xCE).ok());
    auto bad = check_frame_end(0x00);
    REQUIRE_FALSE(bad.ok());
    CHECK(code_of(bad.error()) == Errc::frame_error);
}

TEST_CASE("protocol header accepts only AMQP 0-9-1", "[amqp]") {
    CHECK(check_protocol_header(kProtocolHeader).ok());
    const std::array<std::uint8_t, 8> old = {'A', 'M', 'Q', 'P', 1, 1, 0, 9};
    auto rejected = check_protocol_header(old);
    REQUIRE_FALSE(rejected.ok());
    CHECK_THAT(rejected.error().message, Catch::Contains("0-9-1"));
    const std::array<std::uint8_t, 8> http = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'};
    CHECK_FALSE(check_protocol_header(http).ok());
}

TEST_CASE("queue.declare round-trips with bits and arguments", "[amqp]") {
    QueueDeclare declare;
    declare.queue = "jobs";
    declare.durable = true;
    declare.auto_delete = true;
    declare.arguments.set("x-message-ttl", FieldValue(std::int32_t{1500}));
    declare.arguments.set("x-dead-letter-exchange", FieldValue(std::string("dlx")));
    auto decoded = round_trip(declare);
    CHECK(decoded.queue == "jobs");
    CHECK_FALSE(decoded.passive);
    CHECK(decoded.durable);
    CHECK_FALSE(decoded.exclusive);
    CHECK(decoded.auto_delete);
    CHECK_FALSE(decoded.no_wait);
    CHECK(decoded.arguments == declare.arguments);
}

TEST_CASE("bit arguments pack lowest bit first", "[amqp]") {
    BasicNack nack;
    nack.delivery_tag = 0x0102030405060708;
    nack.multiple = false;
    nack.requeue = true;
    std::string frames;
    append_method_frame(frames, 1, nack);
    const std::string payload = first_payload(frames);
    REQUIRE(payload.size() == 4 + 8 + 1);
    CHECK(payload.back() == 0x02);
    auto decoded = round_trip(nack);
    CHECK(decoded.delivery_tag == 0x0102030405060708);
    CHECK_FALSE(decoded.multiple);
    CHECK(decoded.requeue);
}

TEST_CASE("every method round-trips", "[amqp]") {
    ConnectionStart start;
    start.server_properties.set("product", FieldValue(std::string("imgbus")));
    CHECK(round_trip(start).server_properties == start.server_properties);
    ConnectionTuneOk tune{.channel_max = 2047, .frame_max = 131072, .heartbeat = 60};
    auto tuned = round_trip(tune);
    CHECK(tuned.channel_max == 2047);
    CHECK(tuned.frame_max == 131072);
    CHECK(tuned.heartbeat == 60);
    BasicDeliver deliver{.consumer_tag = "ctag",
                         .delivery_tag = 42,
                         .redelivered = true,
                         .exchange = "ex",
                         .routing_key = "rk"};
    auto delivered = round_trip(deliver);
    CHECK(delivered.consumer_tag == "ctag");
    CHECK(delivered.delivery_tag == 42);
    CHECK(delivered.redelivered);
    CHECK(delivered.routing_key == "rk");
    ConnectionClose close{.reply_code = 406,
                          .reply_text = "PRECONDITION_FAILED",
                          .failing_class_id = 50,
                          .failing_method_id = 10};
    auto closed = round_trip(close);
    CHECK(closed.reply_code == 406);
    CHECK(closed.failing_class_id == 50);
    CHECK(round_trip(BasicGetOk{.delivery_tag = 9, .message_count = 3}).message_count == 3);

    // The empty and single-field methods of the subset survive a round trip too.
    std::visit([](const auto& m) { (void)round_trip(m); }, Method{ConnectionCloseOk{}});
    (void)round_trip(ConfirmSelect{.no_wait = true});
    (void)round_trip(ChannelFlow{.active = false});
    (void)round_trip(QueueUnbind{.queue = "q", .exchange = "e", .routing_key = "k"});
    (void)round_trip(ExchangeDeclare{.exchange = "logs", .type = "fanout"});
}

TEST_CASE("unknown class or method is not implemented", "[amqp]") {
    // tx.select (class 90) is outside the subset.
    auto tx = decode_method(bytes_of(method_payload(90, 10, "")));
    REQUIRE_FALSE(tx.ok());
    CHECK(code_of(tx.error()) == Errc::not_implemented);
    auto bogus = decode_method(bytes_of(method_payload(60, 999, "")));
    REQUIRE_FALSE(bogus.ok());
    CHECK(code_of(bogus.error()) == Errc::not_implemented);
}

TEST_CASE("method shorter than its ids is a frame error", "[amqp]") {
    auto decoded = decode_method(bytes_of(std::string("\x00\x3C", 2)));
    REQUIRE_FALSE(decoded.ok());
    CHECK(code_of(decoded.error()) == Errc::frame_error);
}

TEST_CASE("truncated arguments are a syntax error", "[amqp]") {
    BasicPublish publish{.exchange = "amq.direct", .routing_key = "jobs"};
    std::string frames;
    append_method_frame(frames, 1, publish);
    const std::string payload = first_payload(frames);
    for (std::size_t cut = 4; cut < payload.size(); ++cut) {
        INFO("cut at " << cut);
        auto decoded = decode_method(bytes_of(payload.substr(0, cut)));
        REQUIRE_FALSE(decoded.ok());
        CHECK(code_of(decoded.error()) == Errc::syntax_error);
    }
}

TEST_CASE("trailing bytes after arguments are a syntax error", "[amqp]") {
    auto decoded = decode_method(bytes_of(method_payload(20, 10, std::string("\x00junk", 5))));
    REQUIRE_FALSE(decoded.ok());
    CHECK(code_of(decoded.error()) == Errc::syntax_error);
    CHECK_THAT(decoded.error().message, Catch::Contains("channel.open"));
}

TEST_CASE("shortstr longer than the payload is a syntax error", "[amqp]") {
    // queue.declare: ticket, then a shortstr claiming 200 bytes with only 3 present.
    auto decoded = decode_method(bytes_of(method_payload(50, 10, std::string("\x00\x00\xC8q", 4))));
    REQUIRE_FALSE(decoded.ok());
    CHECK(code_of(decoded.error()) == Errc::syntax_error);
}

TEST_CASE("truncated field table is a syntax error", "[amqp]") {
    // queue.declare with an argument table that claims 100 bytes and contains 5.
    std::string args("\x00\x00", 2);
    args += std::string("\x01q", 2);
    args.push_back(0);  // bits
    args += std::string(
        "\x00\x00\x00\x64"
        "\x01xS\x00",
        8);
    auto decoded = decode_method(bytes_of(method_payload(50, 10, args)));
    REQUIRE_FALSE(decoded.ok());
    CHECK(code_of(decoded.error()) == Errc::syntax_error);
    CHECK_THAT(decoded.error().message, Catch::Contains("field table"));
}

TEST_CASE("field table with an unknown type octet is a syntax error", "[amqp]") {
    std::string args("\x00\x00\x01q\x00", 5);
    args += std::string("\x00\x00\x00\x03\x01xZ", 7);
    auto decoded = decode_method(bytes_of(method_payload(50, 10, args)));
    REQUIRE_FALSE(decoded.ok());
    CHECK(code_of(decoded.error()) == Errc::syntax_error);
}

TEST_CASE("content header round-trips every property", "[amqp]") {
    BasicProperties properties;
    properties.content_type = "application/json";
    properties.content_encoding = "gzip";
    FieldTable headers;
    headers.set("bool", FieldValue(true));
    headers.set("i8", FieldValue(std::int8_t{-5}));
    headers.set("u8", FieldValue(std::uint8_t{250}));
    headers.set("i16", FieldValue(std::int16_t{-300}));
    headers.set("u16", FieldValue(std::uint16_t{60000}));
    headers.set("i32", FieldValue(std::int32_t{-70000}));
    headers.set("u32", FieldValue(std::uint32_t{4000000000u}));
    headers.set("i64", FieldValue(std::int64_t{-5000000000}));
    headers.set("f", FieldValue(1.5f));
    headers.set("d", FieldValue(2.25));
    headers.set("dec", FieldValue(imgbus::broker::Decimal{2, 12345}));
    headers.set("s", FieldValue(std::string("text")));
    headers.set("x", FieldValue(imgbus::broker::Bytes{std::string("\x00\x01", 2)}));
    headers.set("t", FieldValue(imgbus::broker::Timestamp{1700000000}));
    headers.set("void", FieldValue());
    FieldTable inner;
    inner.set("k", FieldValue(std::string("v")));
    headers.set("table", FieldValue(inner));
    headers.set("array", FieldValue(imgbus::broker::FieldArray{FieldValue(std::int32_t{1}),
                                                               FieldValue(std::string("two"))}));
    properties.headers = headers;
    properties.delivery_mode = 2;
    properties.priority = 7;
    properties.correlation_id = "corr-1";
    properties.reply_to = "amq.rabbitmq.reply-to";
    properties.expiration = "60000";
    properties.message_id = "m-1";
    properties.timestamp = 1700000000;
    properties.type = "job";
    properties.user_id = "imgbus";
    properties.app_id = "tests";

    std::string frames;
    append_content(frames, 4, properties, "hello", 131072);
    auto decoded = decode_content_header(bytes_of(first_payload(frames)));
    INFO((decoded.ok() ? "" : decoded.error().message));
    REQUIRE(decoded.ok());
    CHECK(decoded->body_size == 5);
    CHECK(decoded->properties == properties);
}

TEST_CASE("content body is split by frame-max", "[amqp]") {
    const std::string body(10000, 'b');
    std::string frames;
    append_content(frames, 1, BasicProperties{}, body, 4096);
    // Header frame, then bodies of 4088, 4088 and 1824 bytes.
    std::size_t offset = 0;
    std::vector<std::uint32_t> sizes;
    while (offset < frames.size()) {
        std::array<std::uint8_t, kFrameHeaderBytes> head{};
        std::memcpy(head.data(), frames.data() + offset, head.size());
        auto header = decode_frame_header(head, 4096);
        REQUIRE(header.ok());
        sizes.push_back(header->payload_size);
        offset += kFrameOverheadBytes + header->payload_size;
    }
    REQUIRE(sizes.size() == 4);
    CHECK(sizes[1] == 4088);
    CHECK(sizes[2] == 4088);
    CHECK(sizes[3] == 1824);
}

TEST_CASE("empty body sends no body frame", "[amqp]") {
    std::string frames;
    append_content(frames, 1, BasicProperties{}, "", 4096);
    CHECK(frames.size() == kFrameOverheadBytes + 14);
}

TEST_CASE("content header rejects hostile input", "[amqp]") {
    std::string header("\x00\x3C\x00\x00", 4);
    header += std::string("\x00\x00\x00\x00\x00\x00\x00\x05", 8);
    SECTION("wrong class") {
        std::string bad = header;
        bad[1] = 0x32;
        auto decoded = decode_content_header(bytes_of(bad + std::string("\x00\x00", 2)));
        REQUIRE_FALSE(decoded.ok());
        CHECK(code_of(decoded.error()) == Errc::frame_error);
    }
    SECTION("continuation flag") {
        auto decoded = decode_content_header(bytes_of(header + std::string("\x00\x01", 2)));
        REQUIRE_FALSE(decoded.ok());
        CHECK(code_of(decoded.error()) == Errc::syntax_error);
    }
    SECTION("flag without its value") {
        auto decoded = decode_content_header(bytes_of(header + std::string("\x80\x00", 2)));
        REQUIRE_FALSE(decoded.ok());
        CHECK(code_of(decoded.error()) == Errc::syntax_error);
    }
    SECTION("headers table truncated") {
        auto decoded = decode_content_header(
            bytes_of(header + std::string("\x20\x00\x00\x00\x00\x09\x01k", 8)));
        REQUIRE_FALSE(decoded.ok());
        CHECK(code_of(decoded.error()) == Errc::syntax_error);
    }
    SECTION("too short") {
        auto decoded = decode_content_header(bytes_of(header));
        REQUIRE_FALSE(decoded.ok());
        CHECK(code_of(decoded.error()) == Errc::frame_error);
    }
}
