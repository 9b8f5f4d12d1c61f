// SPDX-License-Identifier: MIT
#include "sigv4.hpp"

#include <fmt/format.h>

namespace imgbus::s3::sigv4 {

std::string Scope::to_string() const {
    return fmt::format("{}/{}/{}/aws4_request", date, region, service);
}

std::string CanonicalRequest::to_string() const {
    std::string text = method + "\n" + uri + "\n" + query + "\n";
    std::string signed_names;
    for (const auto& [name, value] : headers) {
        text += name + ":" + value + "\n";
        if (!signed_names.empty()) {
            signed_names.push_back(';');
        }
        signed_names += name;
    }
    text += "\n" + signed_names + "\n" + payload_hash;
    return text;
}

std::string canonical_header_value(std::string_view value) {
    std::string out;
    bool in_space = false;
    for (const char c : value) {
        if (c == ' ' || c == '\t') {
            in_space = true;
            continue;
        }
        if (in_space && !out.empty()) {
            out.push_back(' ');
        }
        in_space = false;
        out.push_back(c);
    }
    return out;
}

Sha256Digest signing_key(std::string_view secret_key, const Scope& scope) {
    const std::string seed = "AWS4" + std::string(secret_key);
    const auto* seed_bytes = reinterpret_cast<const std::uint8_t*>(seed.data());
    auto key = hmac_sha256({seed_bytes, seed.size()}, scope.date);
    key = hmac_sha256(key, scope.region);
    key = hmac_sha256(key, scope.service);
    return hmac_sha256(key, "aws4_request");
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request) {
    return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope.to_string(),
                       sha256_hex(canonical_request));
}

std::string signature(const Sha256Digest& key, std::string_view string_to_sign) {
    return to_hex(hmac_sha256(key, string_to_sign));
}

std::string chunk_string_to_sign(std::string_view amz_date, const Scope& scope,
                                 std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex) {
    return fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", amz_date, scope.to_string(),
                       previous_signature, kEmptySha256, chunk_sha256_hex);
}

}  // namespace imgbus::s3::sigv4
