// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imgbus::s3 {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

std::string to_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view data);
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);
std::string base64_encode(std::span<const std::uint8_t> bytes);
// Decodes standard base64 with padding; nullopt on any other character or a bad length.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);
// Compares in time that depends only on the lengths, for signatures.
bool constant_time_equal(std::string_view a, std::string_view b);
// Fills `out` from the operating system's random source.
void random_bytes(std::span<std::uint8_t> out);

// An incremental SHA-256 or MD5 digest over a stream.
class Digest {
  public:
    enum class Kind { sha256, md5 };
    explicit Digest(Kind kind);
    ~Digest();
    Digest(Digest&&) noexcept;
    Digest& operator=(Digest&&) noexcept;

    void update(std::span<const std::uint8_t> data);
    void update(std::string_view data);
    // Returns the digest and resets the state for the next message.
    std::vector<std::uint8_t> finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    Kind kind_;
};

}  // namespace imgbus::s3
