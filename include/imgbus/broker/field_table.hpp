// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::broker {

// AMQP's decimal: value / 10^scale.
struct Decimal {
    std::uint8_t scale = 0;
    std::int32_t value = 0;
    bool operator==(const Decimal&) const = default;
};

// AMQP's timestamp: seconds since the POSIX epoch.
struct Timestamp {
    std::uint64_t seconds = 0;
    bool operator==(const Timestamp&) const = default;
};

// AMQP's byte array ('x'), kept apart from the long string ('S').
struct Bytes {
    std::string data;
    bool operator==(const Bytes&) const = default;
};

struct FieldValue;
struct FieldEntry;
using FieldArray = std::vector<FieldValue>;

// An AMQP field table: named values in the order they were set. Names are unique; set()
// replaces an existing entry in place.
class FieldTable {
  public:
    FieldTable() = default;
    FieldTable(std::initializer_list<FieldEntry> entries);

    const FieldValue* find(std::string_view name) const;
    void set(std::string name, FieldValue value);
    bool erase(std::string_view name);

    // Defined below FieldEntry: clang 14 rejects member bodies that use a vector of a type
    // that is still incomplete at the end of the class.
    const std::vector<FieldEntry>& entries() const;
    std::size_t size() const;
    bool empty() const;

    bool operator==(const FieldTable& other) const;

  private:
    std::vector<FieldEntry> entries_;
};

// One AMQP field value: void (std::monostate), boolean, signed and unsigned integers of 8 to 64
// bits, float, double, decimal, long string, byte array, timestamp, nested table or array.
struct FieldValue {
    using Variant =
        std::variant<std::monostate, bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t,
                     std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, float, double,
                     Decimal, std::string, Bytes, Timestamp, FieldTable, FieldArray>;

    FieldValue() = default;
    // The converting constructors are defined below FieldEntry, where every alternative is a
    // complete type.
    template <class T>
    requires std::is_constructible_v<Variant, T&&> FieldValue(T&& v);
    FieldValue(const char* text);

    bool operator==(const FieldValue& other) const { return value == other.value; }

    Variant value;
};

struct FieldEntry {
    std::string name;
    FieldValue value;
    bool operator==(const FieldEntry&) const = default;
};

template <class T>
requires std::is_constructible_v<FieldValue::Variant, T&&> FieldValue::FieldValue(T&& v)
    : value(std::forward<T>(v)) {}
inline FieldValue::FieldValue(const char* text) : value(std::string(text)) {}

inline const std::vector<FieldEntry>& FieldTable::entries() const { return entries_; }
inline std::size_t FieldTable::size() const { return entries_.size(); }
inline bool FieldTable::empty() const { return entries_.empty(); }

// Any integer alternative as int64 (clients send x-message-ttl as int8 to int64 or uint*);
// nullopt for other types and for a uint64 above INT64_MAX.
std::optional<std::int64_t> as_integer(const FieldValue& value);
// The long string or byte array; nullptr for other types.
const std::string* as_string(const FieldValue& value);
// The AMQP type name of the held alternative, for error messages ("long string", "int32").
std::string_view type_name(const FieldValue& value);

// AMQP 0-9-1 wire encoding of a field table, as RabbitMQ reads and writes it: a 32-bit length,
// then per entry a short-string name, a type octet and the value. Type octets: t b B s u I i l L
// f d D S x T F A V (RabbitMQ's table, where 's' is int16 and 'L' is uint64).
void encode_field_table(const FieldTable& table, std::string& out);
// Decodes one table at `offset` and advances it. Fails with Errc::invalid_argument naming the
// offset on truncated input, an unknown type octet or nesting deeper than 64 levels.
Result<FieldTable> decode_field_table(std::string_view in, std::size_t& offset);

}  // namespace imgbus::broker
