// SPDX-License-Identifier: MIT
#include "imgbus/broker/field_table.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "imgbus/broker/broker.hpp"

namespace imgbus::broker {

namespace {

constexpr int kMaxDepth = 64;

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
// clang 14 does not deduce aggregate template arguments (P1816) without a guide.
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

template <class T>
void put_be(std::string& out, T value) {
    using U = std::make_unsigned_t<T>;
    U bits = static_cast<U>(value);
    for (int shift = (sizeof(U) - 1) * 8; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((bits >> shift) & 0xff));
    }
}

void put_long_string(std::string& out, const std::string& text) {
    put_be<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
    out += text;
}

void encode_value(const FieldValue& value, std::string& out);

void encode_array(const FieldArray& array, std::string& out) {
    std::string body;
    for (const FieldValue& item : array) {
        encode_value(item, body);
    }
    put_long_string(out, body);
}

void encode_value(const FieldValue& value, std::string& out) {
    std::visit(Overloaded{
                   [&](std::monostate) { out.push_back('V'); },
                   [&](bool v) { out += 't', out.push_back(v ? 1 : 0); },
                   [&](std::int8_t v) { out += 'b', put_be(out, v); },
                   [&](std::uint8_t v) { out += 'B', put_be(out, v); },
                   [&](std::int16_t v) { out += 's', put_be(out, v); },
                   [&](std::uint16_t v) { out += 'u', put_be(out, v); },
                   [&](std::int32_t v) { out += 'I', put_be(out, v); },
                   [&](std::uint32_t v) { out += 'i', put_be(out, v); },
                   [&](std::int64_t v) { out += 'l', put_be(out, v); },
                   [&](std::uint64_t v) { out += 'L', put_be(out, v); },
                   [&](float v) { out += 'f', put_be(out, std::bit_cast<std::uint32_t>(v)); },
                   [&](double v) { out += 'd', put_be(out, std::bit_cast<std::uint64_t>(v)); },
                   [&](const Decimal& v) {
                       out += 'D', out.push_back(static_cast<char>(v.scale));
                       put_be(out, v.value);
                   },
                   [&](const std::string& v) { out += 'S', put_long_string(out, v); },
                   [&](const Bytes& v) { out += 'x', put_long_string(out, v.data); },
                   [&](const Timestamp& v) { out += 'T', put_be(out, v.seconds); },
                   [&](const FieldTable& v) { out += 'F', encode_field_table(v, out); },
                   [&](const FieldArray& v) { out += 'A', encode_array(v, out); },
               },
               value.value);
}

// Reads big-endian values from a buffer, failing instead of reading past its end.
class Reader {
  public:
    Reader(std::string_view in, std::size_t& offset) : in_(in), offset_(offset) {}

    template <class T>
    Result<T> number() {
        using U = std::make_unsigned_t<T>;
        if (auto room = need(sizeof(U)); !room) return room.error();
        U bits = 0;
        for (std::size_t i = 0; i < sizeof(U); ++i) {
            bits = static_cast<U>((bits << 8) | static_cast<unsigned char>(in_[offset_ + i]));
        }
        offset_ += sizeof(U);
        return static_cast<T>(bits);
    }

    Result<std::string> bytes(std::size_t count) {
        if (auto room = need(count); !room) return room.error();
        std::string text(in_.substr(offset_, count));
        offset_ += count;
        return text;
    }

    Result<std::string> long_string() {
        auto length = number<std::uint32_t>();
        if (!length) return length.error();
        return bytes(*length);
    }

    Result<FieldValue> value(int depth);
    Result<FieldTable> table(int depth);
    Result<FieldArray> array(int depth);

    Error error(const std::string& what) const {
        return make_error(Errc::invalid_argument,
                          "malformed field table at byte " + std::to_string(offset_) + ": " + what);
    }

  private:
    Result<void> need(std::size_t count) const {
        if (in_.size() - offset_ < count) {
            return error("it ends " + std::to_string(count - (in_.size() - offset_)) +
                         " bytes early");
        }
        return {};
    }

    std::string_view in_;
    std::size_t& offset_;
};

template <class T, class R>
Result<FieldValue> wrap(R read) {
    if (!read) return read.error();
    if constexpr (std::is_aggregate_v<T>) {
        return FieldValue(T{std::move(*read)});  // Timestamp, Bytes: clang 14 lacks P0960
    } else {
        return FieldValue(T(std::move(*read)));
    }
}

Result<FieldValue> Reader::value(int depth) {
    auto type = number<std::uint8_t>();
    if (!type) return type.error();
    switch (static_cast<char>(*type)) {
        case 'V':
            return FieldValue();
        case 't':
            return wrap<bool>(number<std::uint8_t>());
        case 'b':
            return wrap<std::int8_t>(number<std::int8_t>());
        case 'B':
            return wrap<std::uint8_t>(number<std::uint8_t>());
        case 's':
            return wrap<std::int16_t>(number<std::int16_t>());
        case 'u':
            return wrap<std::uint16_t>(number<std::uint16_t>());
        case 'I':
            return wrap<std::int32_t>(number<std::int32_t>());
        case 'i':
            return wrap<std::uint32_t>(number<std::uint32_t>());
        case 'l':
            return wrap<std::int64_t>(number<std::int64_t>());
        case 'L':
            return wrap<std::uint64_t>(number<std::uint64_t>());
        case 'T':
            return wrap<Timestamp>(number<std::uint64_t>());
        case 'S':
            return wrap<std::string>(long_string());
        case 'x':
            return wrap<Bytes>(long_string());
        case 'F':
            return wrap<FieldTable>(table(depth + 1));
        case 'A':
            return wrap<FieldArray>(array(depth + 1));
        case 'f': {
            auto bits = number<std::uint32_t>();
            if (!bits) return bits.error();
            return FieldValue(std::bit_cast<float>(*bits));
        }
        case 'd': {
            auto bits = number<std::uint64_t>();
            if (!bits) return bits.error();
            return FieldValue(std::bit_cast<double>(*bits));
        }
        case 'D': {
            auto scale = number<std::uint8_t>();
            if (!scale) return scale.error();
            auto digits = number<std::int32_t>();
            if (!digits) return digits.error();
            return FieldValue(Decimal{*scale, *digits});
        }
    }
    --offset_;
    return error("unknown field type octet " + std::to_string(*type));
}

Result<FieldTable> Reader::table(int depth) {
    if (depth > kMaxDepth) return error("tables nest deeper than 64 levels");
    auto body = long_string();
    if (!body) return body.error();
    FieldTable table;
    std::size_t inner = 0;
    Reader reader(*body, inner);
    while (inner < body->size()) {
        auto name_length = reader.number<std::uint8_t>();
        if (!name_length) return error("in a nested entry: " + name_length.error().message);
        auto name = reader.bytes(*name_length);
        if (!name) return error("in a nested entry: " + name.error().message);
        auto value = reader.value(depth);
        if (!value) return error("in entry '" + *name + "': " + value.error().message);
        table.set(std::move(*name), std::move(*value));
    }
    return table;
}

Result<FieldArray> Reader::array(int depth) {
    if (depth > kMaxDepth) return error("arrays nest deeper than 64 levels");
    auto body = long_string();
    if (!body) return body.error();
    FieldArray array;
    std::size_t inner = 0;
    Reader reader(*body, inner);
    while (inner < body->size()) {
        auto value = reader.value(depth);
        if (!value) return error("in an array: " + value.error().message);
        array.push_back(std::move(*value));
    }
    return array;
}

}  // namespace

FieldTable::FieldTable(std::initializer_list<FieldEntry> entries) {
    for (const FieldEntry& entry : entries) {
        set(entry.name, entry.value);
    }
}

const FieldValue* FieldTable::find(std::string_view name) const {
    for (const FieldEntry& entry : entries_) {
        if (entry.name == name) return &entry.value;
    }
    return nullptr;
}

void FieldTable::set(std::string name, FieldValue value) {
    for (FieldEntry& entry : entries_) {
        if (entry.name == name) {
            entry.value = std::move(value);
            return;
        }
    }
    entries_.push_back(FieldEntry{std::move(name), std::move(value)});
}

bool FieldTable::erase(std::string_view name) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->name == name) {
            entries_.erase(it);
            return true;
        }
    }
    return false;
}

bool FieldTable::operator==(const FieldTable& other) const { return entries_ == other.entries_; }

std::optional<std::int64_t> as_integer(const FieldValue& value) {
    return std::visit(
        [](const auto& v) -> std::optional<std::int64_t> {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::uint64_t>) {
                if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    return std::nullopt;
                }
                return static_cast<std::int64_t>(v);
            } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                return static_cast<std::int64_t>(v);
            } else {
                return std::nullopt;
            }
        },
        value.value);
}

const std::string* as_string(const FieldValue& value) {
    if (const auto* text = std::get_if<std::string>(&value.value)) return text;
    if (const auto* bytes = std::get_if<Bytes>(&value.value)) return &bytes->data;
    return nullptr;
}

std::string_view type_name(const FieldValue& value) {
    static constexpr std::string_view kNames[] = {
        "void",    "boolean",     "int8",       "uint8",     "int16", "uint16",
        "int32",   "uint32",      "int64",      "uint64",    "float", "double",
        "decimal", "long string", "byte array", "timestamp", "table", "array"};
    static_assert(std::size(kNames) == std::variant_size_v<FieldValue::Variant>);
    return kNames[value.value.index()];
}

void encode_field_table(const FieldTable& table, std::string& out) {
    std::string body;
    for (const FieldEntry& entry : table.entries()) {
        const std::size_t name_length = std::min<std::size_t>(entry.name.size(), 255);
        body.push_back(static_cast<char>(name_length));
        body.append(entry.name, 0, name_length);
        encode_value(entry.value, body);
    }
    put_long_string(out, body);
}

Result<FieldTable> decode_field_table(std::string_view in, std::size_t& offset) {
    Reader reader(in, offset);
    return reader.table(0);
}

}  // namespace imgbus::broker
