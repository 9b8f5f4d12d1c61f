// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto.hpp"

// AWS Signature Version 4 as S3 uses it: a canonical request, a string to sign and an
// HMAC-SHA256 chain that turns the secret key into a key for one day, region and service.
namespace imgbus::s3::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The credential scope: the day (YYYYMMDD), region and service a signature is valid for.
struct Scope {
    std::string date;
    std::string region;
    std::string service = "s3";

    // "20130524/us-east-1/s3/aws4_request"
    std::string to_string() const;
};

struct CanonicalRequest {
    std::string method;
    std::string uri;    // path, already encoded with uri_encode(path, true)
    std::string query;  // canonical_query() of the parameters
    // Signed headers with lower-case names, in the order of the signed header list.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload_hash;

    std::string to_string() const;
};

// Trims a header value and collapses runs of spaces to one, as the canonical form requires.
std::string canonical_header_value(std::string_view value);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
Sha256Digest signing_key(std::string_view secret_key, const Scope& scope);

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request);

// Hex HMAC-SHA256 of `string_to_sign` with the signing key.
std::string signature(const Sha256Digest& key, std::string_view string_to_sign);

// The string to sign of one aws-chunked chunk, chained to the previous chunk's signature (the
// seed signature for the first chunk).
std::string chunk_string_to_sign(std::string_view amz_date, const Scope& scope,
                                 std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex);

}  // namespace imgbus::s3::sigv4
