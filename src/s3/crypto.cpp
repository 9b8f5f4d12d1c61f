// SPDX-License-Identifier: MIT
#include "crypto.hpp"

#include <stdexcept>

#include "imgbus/dynload/libcrypto.hpp"

namespace imgbus::s3 {
namespace {

const EVP_MD* digest_algorithm(Digest::Kind kind) {
    const auto& crypto = dynload::libcrypto();
    return kind == Digest::Kind::sha256 ? crypto.EVP_sha256() : crypto.EVP_md5();
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (auto byte : bytes) {
        text.push_back(kDigits[byte >> 4]);
        text.push_back(kDigits[byte & 0xf]);
    }
    return text;
}

std::string sha256_hex(std::string_view data) {
    Digest digest(Digest::Kind::sha256);
    digest.update(data);
    return to_hex(digest.finish());
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) {
    Sha256Digest out{};
    unsigned length = 0;
    const auto& crypto = dynload::libcrypto();
    crypto.HMAC(crypto.EVP_sha256(), key.data(), static_cast<int>(key.size()),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                &length);
    return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    const int written =
        dynload::libcrypto().EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                             bytes.data(), static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(written));
    return text;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::size_t padding = 0;
    while (padding < 2 && text[text.size() - 1 - padding] == '=') {
        ++padding;
    }
    std::vector<std::uint8_t> out;
    std::uint32_t accumulator = 0;
    for (std::size_t i = 0; i < text.size() - padding; ++i) {
        const int value = base64_value(text[i]);
        if (value < 0) {
            return std::nullopt;
        }
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
        if (i % 4 == 3) {
            out.push_back(static_cast<std::uint8_t>(accumulator >> 16));
            out.push_back(static_cast<std::uint8_t>(accumulator >> 8));
            out.push_back(static_cast<std::uint8_t>(accumulator));
            accumulator = 0;
        }
    }
    if (padding == 1) {
        out.push_back(static_cast<std::uint8_t>(accumulator >> 10));
        out.push_back(static_cast<std::uint8_t>(accumulator >> 2));
    } else if (padding == 2) {
        out.push_back(static_cast<std::uint8_t>(accumulator >> 4));
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           dynload::libcrypto().CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(std::span<std::uint8_t> out) {
    if (dynload::libcrypto().RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        throw std::runtime_error("the OpenSSL random generator failed");
    }
}

struct Digest::Impl {
    EVP_MD_CTX* context = dynload::libcrypto().EVP_MD_CTX_new();
    ~Impl() { dynload::libcrypto().EVP_MD_CTX_free(context); }
};

Digest::Digest(Kind kind) : impl_(std::make_unique<Impl>()), kind_(kind) {
    if (impl_->context == nullptr || dynload::libcrypto().EVP_DigestInit_ex(
                                         impl_->context, digest_algorithm(kind), nullptr) != 1) {
        throw std::runtime_error("cannot initialise an OpenSSL digest");
    }
}

Digest::~Digest() = default;
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::update(std::span<const std::uint8_t> data) {
    dynload::libcrypto().EVP_DigestUpdate(impl_->context, data.data(), data.size());
}

void Digest::update(std::string_view data) {
    dynload::libcrypto().EVP_DigestUpdate(impl_->context, data.data(), data.size());
}

std::vector<std::uint8_t> Digest::finish() {
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned length = 0;
    dynload::libcrypto().EVP_DigestFinal_ex(impl_->context, out.data(), &length);
    out.resize(length);
    dynload::libcrypto().EVP_DigestInit_ex(impl_->context, digest_algorithm(kind_), nullptr);
    return out;
}

}  // namespace imgbus::s3
