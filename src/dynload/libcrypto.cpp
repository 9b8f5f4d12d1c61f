// SPDX-License-Identifier: MIT
#include "imgbus/dynload/libcrypto.hpp"

#include <stdexcept>

#include "imgbus/dynload/shared_library.hpp"

namespace imgbus::dynload {
namespace {

void bind_all(SymbolBinder& bind, Libcrypto& table) {
    bind("EVP_md5", table.EVP_md5);
    bind("EVP_sha256", table.EVP_sha256);
    bind("EVP_MD_get0_name", table.EVP_MD_get0_name);
    bind("EVP_MD_CTX_new", table.EVP_MD_CTX_new);
    bind("EVP_MD_CTX_free", table.EVP_MD_CTX_free);
    bind("EVP_DigestInit_ex", table.EVP_DigestInit_ex);
    bind("EVP_DigestUpdate", table.EVP_DigestUpdate);
    bind("EVP_DigestFinal_ex", table.EVP_DigestFinal_ex);
    bind("EVP_EncodeBlock", table.EVP_EncodeBlock);
    bind("HMAC", table.HMAC);
    bind("CRYPTO_memcmp", table.CRYPTO_memcmp);
    bind("RAND_bytes", table.RAND_bytes);
}

}  // namespace

Result<const Libcrypto*> load_libcrypto() {
    return load_table<Libcrypto>(
        {"libcrypto.so.3", "libssl3", "digests, signatures and random numbers"}, bind_all);
}

const Libcrypto& libcrypto() {
    const auto loaded = load_libcrypto();
    if (!loaded) {
        throw std::runtime_error(loaded.error().message);
    }
    return **loaded;
}

}  // namespace imgbus::dynload
