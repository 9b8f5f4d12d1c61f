// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imgbus/result.hpp"
#include "imgbus/s3/server.hpp"
#include "sigv4.hpp"
#include "time_format.hpp"
#include "uri.hpp"

namespace imgbus::s3 {

// Request headers with lower-case names, in arrival order; a name may repeat.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name` (lower case), or "" when absent.
std::string_view header_value(const HeaderList& headers, std::string_view name);
bool has_header(const HeaderList& headers, std::string_view name);

// The parts of a request that authentication reads: the raw (still percent-encoded) path, the
// decoded query and the headers.
struct RequestView {
    std::string_view method;
    std::string_view raw_path;
    const QueryParams& query;
    const HeaderList& headers;
};

// The protection of the body, from x-amz-content-sha256 (UNSIGNED-PAYLOAD for a presigned URL).
enum class PayloadMode {
    unsigned_payload,  // not covered by the signature
    signed_payload,    // its SHA-256 must equal payload_sha256, checked after the last byte
    streaming,         // aws-chunked with a signature per chunk, chained from seed_signature
};

struct AuthResult {
    PayloadMode mode = PayloadMode::unsigned_payload;
    std::string payload_sha256;  // hex, for signed_payload
    std::string amz_date;
    sigv4::Scope scope;
    Sha256Digest signing_key{};
    std::string seed_signature;
    bool presigned = false;
};

struct AuthPolicy {
    std::chrono::seconds max_clock_skew{15 * 60};
    std::chrono::seconds max_presign_expiry{7 * 24 * 3600};  // S3's limit, one week
};

// Verifies the SigV4 signature of a request, in the Authorization header or in a presigned
// query. Every failure is an S3 error: AccessDenied (anonymous, expired), SignatureDoesNotMatch,
// InvalidAccessKeyId, AuthorizationHeaderMalformed, RequestTimeTooSkewed and so on.
Result<AuthResult> authenticate(const RequestView& request, const Credentials& credentials,
                                Clock::time_point now, const AuthPolicy& policy = {});

}  // namespace imgbus::s3
