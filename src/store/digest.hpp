// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace imgbus::store {

// Lowercase hex MD5 of `data`: the object's ETag, as S3 computes it for a single-part upload.
std::string md5_hex(std::span<const std::uint8_t> data);

// An MD5 of content that arrives in pieces.
class Md5Stream {
  public:
    Md5Stream();
    ~Md5Stream();
    Md5Stream(const Md5Stream&) = delete;
    Md5Stream& operator=(const Md5Stream&) = delete;

    void update(std::span<const std::uint8_t> data);
    // Returns the lowercase hex digest of everything passed to update(). Call it once.
    std::string finish_hex();

  private:
    evp_md_ctx_st* context_;
};

// Lowercase hex SHA-256 of `text`: the file name of the object with that key.
std::string sha256_hex(std::string_view text);

}  // namespace imgbus::store
