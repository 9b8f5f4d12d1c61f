// SPDX-License-Identifier: MIT
#include "imgbus/amqp/method.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "imgbus/amqp/frame.hpp"
#include "wire.hpp"

namespace imgbus::amqp {

namespace {

// Reads the arguments of one method; see the `fields` list of each method struct.
class FieldDecoder {
  public:
    explicit FieldDecoder(WireReader& reader, std::span<const std::uint8_t> payload)
        : reader_(reader), payload_(payload) {}

    void u8(std::uint8_t& value) { value = reader_.u8(); }
    void u16(std::uint16_t& value) { value = reader_.u16(); }
    void u32(std::uint32_t& value) { value = reader_.u32(); }
    void u64(std::uint64_t& value) { value = reader_.u64(); }
    void shortstr(std::string& value) { value = reader_.shortstr(); }
    void longstr(std::string& value) { value = reader_.longstr(); }

    template <class... Bits>
    void bits(Bits&... flags) {
        const std::uint8_t octet = reader_.u8();
        int bit = 0;
        ((flags = ((octet >> bit++) & 1) != 0), ...);
    }

    void table(FieldTable& value) {
        if (reader_.failed()) {
            return;
        }
        const std::string_view whole(reinterpret_cast<const char*>(payload_.data()),
                                     payload_.size());
        std::size_t offset = reader_.offset();
        auto decoded = broker::decode_field_table(whole, offset);
        if (!decoded) {
            table_error_ = decoded.error().message;
            reader_.fail();
            return;
        }
        value = std::move(*decoded);
        reader_.take(offset - reader_.offset());
    }

    const std::string& table_error() const { return table_error_; }

  private:
    WireReader& reader_;
    std::span<const std::uint8_t> payload_;
    std::string table_error_;
};

// Writes the arguments of one method in wire order.
class FieldEncoder {
  public:
    explicit FieldEncoder(WireWriter& writer, std::string& out) : writer_(writer), out_(out) {}

    void u8(std::uint8_t value) { writer_.u8(value); }
    void u16(std::uint16_t value) { writer_.u16(value); }
    void u32(std::uint32_t value) { writer_.u32(value); }
    void u64(std::uint64_t value) { writer_.u64(value); }
    void shortstr(const std::string& value) { writer_.shortstr(value); }
    void longstr(const std::string& value) { writer_.longstr(value); }

    template <class... Bits>
    void bits(const Bits&... flags) {
        std::uint8_t octet = 0;
        int bit = 0;
        ((octet |= static_cast<std::uint8_t>((flags ? 1 : 0) << bit++)), ...);
        writer_.u8(octet);
    }

    void table(const FieldTable& value) { broker::encode_field_table(value, out_); }

  private:
    WireWriter& writer_;
    std::string& out_;
};

template <class M>
Result<Method> decode_as(std::span<const std::uint8_t> payload) {
    WireReader reader(payload);
    reader.take(4);  // class and method ids, already matched
    FieldDecoder decoder(reader, payload);
    M method;
    M::fields(method, decoder);
    if (!decoder.table_error().empty()) {
        return make_error(Errc::syntax_error, fmt::format("{}: invalid field table: {}", M::name,
                                                          decoder.table_error()));
    }
    if (reader.failed()) {
        return make_error(Errc::syntax_error,
                          fmt::format("{}: arguments truncated in a {}-byte method frame", M::name,
                                      payload.size()));
    }
    if (reader.remaining() != 0) {
        return make_error(Errc::syntax_error,
                          fmt::format("{}: {} unexpected bytes after the arguments", M::name,
                                      reader.remaining()));
    }
    return Method{std::move(method)};
}

struct DecoderEntry {
    std::uint16_t class_id;
    std::uint16_t method_id;
    Result<Method> (*decode)(std::span<const std::uint8_t>);
};

template <std::size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
    return std::array<DecoderEntry, sizeof...(I)>{
        DecoderEntry{std::variant_alternative_t<I, Method>::class_id,
                     std::variant_alternative_t<I, Method>::method_id,
                     &decode_as<std::variant_alternative_t<I, Method>>}...};
}

constexpr auto kDecoders = make_decoders(std::make_index_sequence<std::variant_size_v<Method>>{});

}  // namespace

MethodId method_id_of(const Method& method) {
    return std::visit(
        [](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            return MethodId{M::class_id, M::method_id};
        },
        method);
}

std::string_view method_name(const Method& method) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::name; }, method);
}

Result<Method> decode_method(std::span<const std::uint8_t> payload, MethodId* id) {
    WireReader reader(payload);
    const MethodId read{reader.u16(), reader.u16()};
    if (reader.failed()) {
        return make_error(Errc::frame_error,
                          fmt::format("method frame of {} bytes is too short for the class and "
                                      "method ids (4 bytes)",
                                      payload.size()));
    }
    if (id != nullptr) {
        *id = read;
    }
    for (const auto& entry : kDecoders) {
        if (entry.class_id == read.class_id && entry.method_id == read.method_id) {
            return entry.decode(payload);
        }
    }
    return make_error(Errc::not_implemented,
                      fmt::format("method with class id {} and method id {} is not supported",
                                  read.class_id, read.method_id));
}

void append_method_frame(std::string& out, std::uint16_t channel, const Method& method) {
    WireWriter writer(out);
    writer.u8(static_cast<std::uint8_t>(FrameType::method));
    writer.u16(channel);
    const std::size_t size_offset = writer.size();
    writer.u32(0);
    const std::size_t payload_start = writer.size();

    std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            writer.u16(M::class_id);
            writer.u16(M::method_id);
            FieldEncoder encoder(writer, out);
            M::fields(m, encoder);
        },
        method);

    writer.patch_u32(size_offset, static_cast<std::uint32_t>(writer.size() - payload_start));
    writer.u8(kFrameEnd);
}

}  // namespace imgbus::amqp
