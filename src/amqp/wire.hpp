// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace imgbus::amqp {

// Reads AMQP's big-endian integers and strings from a byte span. A read past the end, or a
// string longer than what is left, sets a sticky failure flag and yields zero values, so a
// decoder reads all fields and checks failed() once.
class WireReader {
  public:
    explicit WireReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    std::uint8_t u8() { return static_cast<std::uint8_t>(read_be(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(read_be(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(read_be(4)); }
    std::uint64_t u64() { return read_be(8); }

    std::string shortstr() { return take_string(u8()); }
    std::string longstr() { return take_string(u32()); }

    // The next `count` bytes, or an empty span (and failure) if fewer are left.
    std::span<const std::uint8_t> take(std::size_t count) {
        if (count > remaining()) {
            fail();
            return {};
        }
        auto part = bytes_.subspan(offset_, count);
        offset_ += count;
        return part;
    }

    std::size_t remaining() const { return failed_ ? 0 : bytes_.size() - offset_; }
    std::size_t offset() const { return offset_; }
    bool failed() const { return failed_; }
    void fail() { failed_ = true; }

  private:
    std::uint64_t read_be(std::size_t width) {
        auto part = take(width);
        std::uint64_t value = 0;
        for (std::uint8_t octet : part) {
            value = (value << 8) | octet;
        }
        return value;
    }

    std::string take_string(std::size_t size) {
        auto part = take(size);
        return std::string(reinterpret_cast<const char*>(part.data()), part.size());
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t offset_ = 0;
    bool failed_ = false;
};

// Appends AMQP's big-endian integers and strings to a std::string used as a byte buffer.
class WireWriter {
  public:
    explicit WireWriter(std::string& out) : out_(out) {}

    void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
    void u16(std::uint16_t value) { write_be(value, 2); }
    void u32(std::uint32_t value) { write_be(value, 4); }
    void u64(std::uint64_t value) { write_be(value, 8); }

    // A shortstr has at most 255 bytes, so a longer value (a long reply text) is cut to 255.
    void shortstr(std::string_view value) {
        const auto size = value.size() > 255 ? 255 : value.size();
        u8(static_cast<std::uint8_t>(size));
        out_.append(value.substr(0, size));
    }
    void longstr(std::string_view value) {
        u32(static_cast<std::uint32_t>(value.size()));
        out_.append(value);
    }
    void raw(std::string_view bytes) { out_.append(bytes); }

    std::size_t size() const { return out_.size(); }
    // Overwrites 4 bytes at `offset` with a big-endian long (for sizes known only afterwards).
    void patch_u32(std::size_t offset, std::uint32_t value) {
        for (int i = 3; i >= 0; --i) {
            out_[offset + static_cast<std::size_t>(i)] = static_cast<char>(value & 0xFF);
            value >>= 8;
        }
    }

  private:
    void write_be(std::uint64_t value, int width) {
        for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) {
            out_.push_back(static_cast<char>((value >> shift) & 0xFF));
        }
    }

    std::string& out_;
};

}  // namespace imgbus::amqp
