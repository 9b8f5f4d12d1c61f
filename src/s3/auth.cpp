// SPDX-License-Identifier: MIT
#include "auth.hpp"

#include <fmt/format.h>

#include <charconv>

#include "imgbus/s3/error.hpp"

namespace imgbus::s3 {
namespace {

// The parts shared by the header and the presigned form.
struct SignedParts {
    std::string access_key;
    sigv4::Scope scope;
    std::vector<std::string> signed_headers;
    std::string signature;
    std::string amz_date;
};

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return parts;
        }
        text = text.substr(at + 1);
    }
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool is_lower_hex(std::string_view text, std::size_t length) {
    if (text.size() != length) {
        return false;
    }
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

// "AKID/20130524/us-east-1/s3/aws4_request"
Result<void> parse_credential(std::string_view text, SignedParts& parts, Errc malformed) {
    const auto fields = split(text, '/');
    if (fields.size() != 5 || fields[0].empty() || fields[1].size() != 8 || fields[2].empty() ||
        fields[3] != "s3" || fields[4] != "aws4_request") {
        return make_error(malformed, fmt::format("the credential '{}' is not in the form "
                                                 "ACCESS_KEY/YYYYMMDD/REGION/s3/aws4_request",
                                                 text.substr(0, 200)));
    }
    parts.access_key = std::string(fields[0]);
    parts.scope = sigv4::Scope{std::string(fields[1]), std::string(fields[2]), "s3"};
    return {};
}

Result<void> parse_signed_headers(std::string_view text, SignedParts& parts, Errc malformed) {
    for (const auto name : split(text, ';')) {
        if (name.empty() || name.size() > 128) {
            return make_error(malformed, fmt::format("the signed header list '{}' has an empty or "
                                                     "overlong name",
                                                     text.substr(0, 200)));
        }
        for (const char c : name) {
            if (c >= 'A' && c <= 'Z') {
                return make_error(malformed, "signed header names must be lower case");
            }
        }
        if (!parts.signed_headers.empty() && parts.signed_headers.back() >= name) {
            return make_error(malformed, "signed header names must be sorted and unique");
        }
        parts.signed_headers.emplace_back(name);
    }
    if (parts.signed_headers.size() > 64) {
        return make_error(malformed, "more than 64 signed headers");
    }
    return {};
}

Result<SignedParts> parse_authorization(std::string_view header) {
    constexpr auto malformed = Errc::authorization_header_malformed;
    if (header.starts_with("AWS ")) {
        return make_error(Errc::invalid_request,
                          "AWS Signature Version 2 is not supported; configure the client for "
                          "Signature Version 4 (AWS4-HMAC-SHA256)");
    }
    if (!header.starts_with("AWS4-HMAC-SHA256 ")) {
        return make_error(malformed, "the Authorization header must start with AWS4-HMAC-SHA256");
    }
    SignedParts parts;
    bool have_credential = false, have_headers = false, have_signature = false;
    for (auto item : split(header.substr(17), ',')) {
        item = trim(item);
        const auto eq = item.find('=');
        const auto name = item.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        if (name == "Credential" && !have_credential) {
            if (auto parsed = parse_credential(value, parts, malformed); !parsed) {
                return parsed.error();
            }
            have_credential = true;
        } else if (name == "SignedHeaders" && !have_headers) {
            if (auto parsed = parse_signed_headers(value, parts, malformed); !parsed) {
                return parsed.error();
            }
            have_headers = true;
        } else if (name == "Signature" && !have_signature) {
            parts.signature = std::string(value);
            have_signature = true;
        } else {
            return make_error(malformed, fmt::format("unexpected or repeated field '{}' in the "
                                                     "Authorization header",
                                                     name.substr(0, 64)));
        }
    }
    if (!have_credential || !have_headers || !have_signature) {
        return make_error(malformed,
                          "the Authorization header needs Credential, SignedHeaders and Signature");
    }
    return parts;
}

Result<SignedParts> parse_presigned(const QueryParams& query) {
    constexpr auto malformed = Errc::authorization_query_parameters_error;
    const auto algorithm = find_param(query, "X-Amz-Algorithm");
    const auto credential = find_param(query, "X-Amz-Credential");
    const auto date = find_param(query, "X-Amz-Date");
    const auto headers = find_param(query, "X-Amz-SignedHeaders");
    const auto signature = find_param(query, "X-Amz-Signature");
    if (!algorithm || !credential || !date || !headers || !signature) {
        return make_error(malformed,
                          "a presigned URL needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, "
                          "X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
    }
    if (*algorithm != sigv4::kAlgorithm) {
        return make_error(malformed, fmt::format("X-Amz-Algorithm '{}' is not AWS4-HMAC-SHA256",
                                                 algorithm->substr(0, 64)));
    }
    SignedParts parts;
    if (auto parsed = parse_credential(*credential, parts, malformed); !parsed) {
        return parsed.error();
    }
    if (auto parsed = parse_signed_headers(*headers, parts, malformed); !parsed) {
        return parsed.error();
    }
    parts.signature = *signature;
    parts.amz_date = *date;
    return parts;
}

Result<std::vector<std::pair<std::string, std::string>>> signed_header_values(
    const SignedParts& parts, const HeaderList& headers) {
    std::vector<std::pair<std::string, std::string>> values;
    bool host_signed = false;
    for (const auto& name : parts.signed_headers) {
        host_signed = host_signed || name == "host";
        std::string joined;
        bool found = false;
        for (const auto& [header, value] : headers) {
            if (header == name) {
                if (found) joined.push_back(',');
                joined += sigv4::canonical_header_value(value);
                found = true;
            }
        }
        if (!found) {
            return make_error(
                Errc::access_denied,
                fmt::format("the signed header '{}' is missing from the request", name));
        }
        values.emplace_back(name, std::move(joined));
    }
    if (!host_signed) {
        return make_error(Errc::authorization_header_malformed,
                          "the host header must be among the signed headers");
    }
    return values;
}

Result<void> check_time(const SignedParts& parts, Clock::time_point request_time,
                        Clock::time_point now, std::chrono::seconds skew) {
    if (parts.amz_date.substr(0, 8) != parts.scope.date) {
        return make_error(Errc::authorization_header_malformed,
                          fmt::format("the credential date {} does not match the request date {}",
                                      parts.scope.date, parts.amz_date));
    }
    if (request_time > now + skew || request_time < now - skew) {
        return make_error(Errc::request_time_too_skewed,
                          fmt::format("the request time {} differs from the server time {} by "
                                      "more than {} s; fix the client's clock",
                                      parts.amz_date, format_amz_date(now), skew.count()));
    }
    return {};
}

Result<void> check_presign_expiry(const QueryParams& query, Clock::time_point signed_at,
                                  Clock::time_point now, const AuthPolicy& policy) {
    const auto expires = find_param(query, "X-Amz-Expires");
    long long seconds = -1;
    if (expires) {
        const auto [end, error] =
            std::from_chars(expires->data(), expires->data() + expires->size(), seconds);
        if (error != std::errc() || end != expires->data() + expires->size()) seconds = -1;
    }
    if (seconds < 1 || seconds > policy.max_presign_expiry.count()) {
        return make_error(Errc::authorization_query_parameters_error,
                          fmt::format("X-Amz-Expires must be a number of seconds from 1 to {}",
                                      policy.max_presign_expiry.count()));
    }
    if (signed_at > now + policy.max_clock_skew) {
        return make_error(Errc::access_denied, "the presigned URL is not valid yet");
    }
    if (now > signed_at + std::chrono::seconds(seconds)) {
        return make_error(Errc::access_denied, "the presigned URL has expired");
    }
    return {};
}

Result<PayloadMode> payload_mode(std::string_view hash) {
    if (hash == sigv4::kUnsignedPayload) return PayloadMode::unsigned_payload;
    if (hash == sigv4::kStreamingPayload) return PayloadMode::streaming;
    if (is_lower_hex(hash, 64)) return PayloadMode::signed_payload;
    return make_error(Errc::invalid_argument,
                      fmt::format("x-amz-content-sha256 '{}' is not supported; send the hex "
                                  "SHA-256 of the body, UNSIGNED-PAYLOAD or {}",
                                  hash.substr(0, 80), sigv4::kStreamingPayload));
}

// Finds the request time and the payload hash the client signed.
Result<void> read_header_time(const HeaderList& headers, SignedParts& parts,
                              Clock::time_point& at) {
    auto date = header_value(headers, "x-amz-date");
    std::optional<Clock::time_point> parsed;
    if (!date.empty()) {
        parsed = parse_amz_date(date);
        parts.amz_date = std::string(date);
    } else if (auto http_date = header_value(headers, "date"); !http_date.empty()) {
        parsed = parse_http_date(http_date);
        if (parsed) parts.amz_date = format_amz_date(*parsed);
    } else {
        return make_error(Errc::access_denied,
                          "the request has neither an x-amz-date nor a Date header");
    }
    if (!parsed) {
        return make_error(Errc::access_denied,
                          fmt::format("the request date '{}' is not valid", date.substr(0, 40)));
    }
    at = *parsed;
    return {};
}

}  // namespace

std::string_view header_value(const HeaderList& headers, std::string_view name) {
    for (const auto& [header, value] : headers) {
        if (header == name) return value;
    }
    return {};
}

bool has_header(const HeaderList& headers, std::string_view name) {
    for (const auto& [header, value] : headers) {
        if (header == name) return true;
    }
    return false;
}

Result<AuthResult> authenticate(const RequestView& request, const Credentials& credentials,
                                Clock::time_point now, const AuthPolicy& policy) {
    const auto authorization = header_value(request.headers, "authorization");
    const bool presigned = authorization.empty() && find_param(request.query, "X-Amz-Signature");
    if (authorization.empty() && !presigned) {
        return make_error(Errc::access_denied,
                          "anonymous requests are not allowed; sign the request with AWS "
                          "Signature Version 4 using the server's access key");
    }

    auto parts = presigned ? parse_presigned(request.query) : parse_authorization(authorization);
    if (!parts) return parts.error();
    Clock::time_point request_time;
    if (presigned) {
        auto parsed = parse_amz_date(parts->amz_date);
        if (!parsed) {
            return make_error(Errc::authorization_query_parameters_error,
                              "X-Amz-Date must be in the form YYYYMMDDTHHMMSSZ");
        }
        request_time = *parsed;
        if (parts->amz_date.substr(0, 8) != parts->scope.date) {
            return make_error(Errc::authorization_query_parameters_error,
                              "the X-Amz-Credential date does not match X-Amz-Date");
        }
        if (auto fresh = check_presign_expiry(request.query, request_time, now, policy); !fresh) {
            return fresh.error();
        }
    } else {
        if (auto read = read_header_time(request.headers, *parts, request_time); !read) {
            return read.error();
        }
        if (auto fresh = check_time(*parts, request_time, now, policy.max_clock_skew); !fresh) {
            return fresh.error();
        }
    }
    if (!constant_time_equal(parts->access_key, credentials.access_key)) {
        return make_error(Errc::invalid_access_key_id,
                          "the access key in the request is not the server's access key");
    }

    AuthResult result;
    result.presigned = presigned;
    std::string payload_hash;
    if (presigned) {
        payload_hash = find_param(request.query, "X-Amz-Content-Sha256")
                           .value_or(std::string(sigv4::kUnsignedPayload));
    } else {
        payload_hash = std::string(header_value(request.headers, "x-amz-content-sha256"));
        if (payload_hash.empty()) {
            return make_error(Errc::invalid_request,
                              "the x-amz-content-sha256 header is missing; AWS Signature "
                              "Version 4 requests to S3 must send it");
        }
    }
    auto mode = payload_mode(payload_hash);
    if (!mode) return mode.error();

    auto headers = signed_header_values(*parts, request.headers);
    if (!headers) return headers.error();
    auto path = percent_decode(request.raw_path);
    if (!path) {
        return make_error(Errc::invalid_argument, "the request path has a malformed % escape");
    }
    sigv4::CanonicalRequest canonical{
        std::string(request.method), uri_encode(*path, true),
        canonical_query(request.query, presigned ? "X-Amz-Signature" : ""), std::move(*headers),
        payload_hash};
    const auto key = sigv4::signing_key(credentials.secret_key, parts->scope);
    const auto expected = sigv4::signature(
        key, sigv4::string_to_sign(parts->amz_date, parts->scope, canonical.to_string()));
    if (!constant_time_equal(expected, parts->signature)) {
        return make_error(Errc::signature_does_not_match,
                          "the request signature does not match the signature the server "
                          "computed; check the secret key and the signing method");
    }

    result.mode = *mode;
    result.payload_sha256 = *mode == PayloadMode::signed_payload ? payload_hash : "";
    result.amz_date = parts->amz_date;
    result.scope = parts->scope;
    result.signing_key = key;
    result.seed_signature = parts->signature;
    return result;
}

}  // namespace imgbus::s3
