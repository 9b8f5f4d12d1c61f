// SPDX-License-Identifier: MIT
#include "digest.hpp"

#include <memory>
#include <stdexcept>

#include "imgbus/dynload/libcrypto.hpp"

namespace imgbus::store {

namespace {

std::string to_hex(const unsigned char* bytes, unsigned int size) {
    static const char* const kHex = "0123456789abcdef";
    std::string hex;
    hex.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
        hex += kHex[bytes[i] >> 4];
        hex += kHex[bytes[i] & 0x0F];
    }
    return hex;
}

// Hashes with OpenSSL's EVP interface. A failure here means OpenSSL itself is broken (for
// example MD5 disabled by a FIPS-only configuration), so it throws instead of returning.
std::string digest_hex(const EVP_MD* algorithm, const void* data, std::size_t size) {
    const auto& crypto = dynload::libcrypto();
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(crypto.EVP_MD_CTX_new(),
                                                                    crypto.EVP_MD_CTX_free);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (!context || crypto.EVP_DigestInit_ex(context.get(), algorithm, nullptr) != 1 ||
        crypto.EVP_DigestUpdate(context.get(), data, size) != 1 ||
        crypto.EVP_DigestFinal_ex(context.get(), digest, &digest_size) != 1) {
        throw std::runtime_error(std::string("OpenSSL digest ") +
                                 crypto.EVP_MD_get0_name(algorithm) +
                                 " failed; check the OpenSSL configuration");
    }
    return to_hex(digest, digest_size);
}

}  // namespace

std::string md5_hex(std::span<const std::uint8_t> data) {
    return digest_hex(dynload::libcrypto().EVP_md5(), data.data(), data.size());
}

Md5Stream::Md5Stream() : context_(dynload::libcrypto().EVP_MD_CTX_new()) {
    const auto& crypto = dynload::libcrypto();
    if (context_ == nullptr || crypto.EVP_DigestInit_ex(context_, crypto.EVP_md5(), nullptr) != 1) {
        crypto.EVP_MD_CTX_free(context_);
        throw std::runtime_error(
            "OpenSSL digest MD5 failed to start; check the OpenSSL configuration");
    }
}

Md5Stream::~Md5Stream() { dynload::libcrypto().EVP_MD_CTX_free(context_); }

void Md5Stream::update(std::span<const std::uint8_t> data) {
    dynload::libcrypto().EVP_DigestUpdate(context_, data.data(), data.size());
}

std::string Md5Stream::finish_hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    dynload::libcrypto().EVP_DigestFinal_ex(context_, digest, &digest_size);
    return to_hex(digest, digest_size);
}

std::string sha256_hex(std::string_view text) {
    return digest_hex(dynload::libcrypto().EVP_sha256(), text.data(), text.size());
}

}  // namespace imgbus::store
