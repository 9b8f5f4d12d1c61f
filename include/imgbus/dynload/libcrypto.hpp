// SPDX-License-Identifier: MIT
#pragma once
// OpenSSL's libcrypto, loaded with dlopen on the first digest, HMAC or random number instead of
// at program start. Resolving libcrypto's symbols cost every imgbus command about half a
// millisecond at start-up, while `imgbus process` and most other commands never call it.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "imgbus/result.hpp"

namespace imgbus::dynload {

// The libcrypto functions that imgbus calls, with OpenSSL's names.
struct Libcrypto {
    decltype(&::EVP_md5) EVP_md5 = nullptr;
    decltype(&::EVP_sha256) EVP_sha256 = nullptr;
    decltype(&::EVP_MD_get0_name) EVP_MD_get0_name = nullptr;
    decltype(&::EVP_MD_CTX_new) EVP_MD_CTX_new = nullptr;
    decltype(&::EVP_MD_CTX_free) EVP_MD_CTX_free = nullptr;
    decltype(&::EVP_DigestInit_ex) EVP_DigestInit_ex = nullptr;
    decltype(&::EVP_DigestUpdate) EVP_DigestUpdate = nullptr;
    decltype(&::EVP_DigestFinal_ex) EVP_DigestFinal_ex = nullptr;
    decltype(&::EVP_EncodeBlock) EVP_EncodeBlock = nullptr;
    decltype(&::HMAC) HMAC = nullptr;
    decltype(&::CRYPTO_memcmp) CRYPTO_memcmp = nullptr;
    decltype(&::RAND_bytes) RAND_bytes = nullptr;
};

// Loads libcrypto.so.3 once per process; later calls return the same table. Fails with a
// message that names the library and the Debian package to install.
Result<const Libcrypto*> load_libcrypto();

// The loaded table for callers that report failures with exceptions. Throws std::runtime_error
// with load_libcrypto's message when the library cannot be loaded.
const Libcrypto& libcrypto();

}  // namespace imgbus::dynload
