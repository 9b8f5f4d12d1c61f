// SPDX-License-Identifier: MIT
#include "imgbus/broker/field_table.hpp"

#include <catch2/catch.hpp>

#include "imgbus/broker/broker.hpp"

using namespace imgbus::broker;

TEST_CASE("field table round trip", "[broker]") {
    FieldTable nested{{"inner", std::int32_t{-7}}};
    FieldTable table{{"void", FieldValue()},
                     {"bool", true},
                     {"i8", std::int8_t{-8}},
                     {"u8", std::uint8_t{200}},
                     {"i16", std::int16_t{-1600}},
                     {"u16", std::uint16_t{60000}},
                     {"i32", std::int32_t{-320000}},
                     {"u32", std::uint32_t{4000000000u}},
                     {"i64", std::int64_t{-6400000000LL}},
                     {"u64", std::uint64_t{18000000000000000000ULL}},
                     {"float", 1.5f},
                     {"double", -2.25},
                     {"decimal", Decimal{2, 12345}},
                     {"string", "text"},
                     {"bytes", Bytes{std::string("\0\x01\xff", 3)}},
                     {"time", Timestamp{1700000000}},
                     {"table", nested},
                     {"array", FieldArray{FieldValue(std::int64_t{1}), FieldValue("two")}}};
    std::string wire;
    encode_field_table(table, wire);
    std::size_t offset = 0;
    auto decoded = decode_field_table(wire, offset);
    REQUIRE(decoded.ok());
    CHECK(offset == wire.size());
    CHECK(*decoded == table);
    CHECK(decoded->entries()[3].name == "u8");
}

TEST_CASE("malformed field table fails", "[broker]") {
    FieldTable table{{"key", "value"}};
    std::string wire;
    encode_field_table(table, wire);

    std::size_t offset = 0;
    auto truncated = decode_field_table(std::string_view(wire).substr(0, wire.size() - 2), offset);
    REQUIRE_FALSE(truncated.ok());
    CHECK(truncated.error().code == Errc::invalid_argument);
    CHECK_THAT(truncated.error().message, Catch::Contains("ends 2 bytes early"));

    std::string unknown = wire;
    unknown[4 + 1 + 3] = 'Z';  // the type octet after the 3-byte name
    offset = 0;
    auto bad_type = decode_field_table(unknown, offset);
    REQUIRE_FALSE(bad_type.ok());
    CHECK_THAT(bad_type.error().message, Catch::Contains("unknown field type octet 90"));
}

TEST_CASE("as_integer widths and types", "[broker]") {
    CHECK(as_integer(std::int8_t{-3}) == -3);
    CHECK(as_integer(std::uint32_t{70000}) == 70000);
    CHECK(as_integer(std::uint64_t{1} << 63) == std::nullopt);
    CHECK(as_integer("5") == std::nullopt);
    CHECK(as_integer(true) == std::nullopt);
    CHECK(type_name(FieldValue(1.0)) == "double");
}

TEST_CASE("FieldTable set keeps order", "[broker]") {
    FieldTable table{{"a", 1}, {"b", 2}};
    table.set("a", 3);
    REQUIRE(table.size() == 2);
    CHECK(table.entries()[0].name == "a");
    CHECK(*table.find("a") == FieldValue(3));
    CHECK(table.erase("a"));
    CHECK(table.find("a") == nullptr);
}
