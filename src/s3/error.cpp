// SPDX-License-Identifier: MIT
#include "imgbus/s3/error.hpp"

#include <array>

namespace imgbus::s3 {
namespace {

struct ErrorEntry {
    Errc errc;
    std::string_view code;
    unsigned status;
};

constexpr std::array kErrors = {
    ErrorEntry{Errc::access_denied, "AccessDenied", 403},
    ErrorEntry{Errc::signature_does_not_match, "SignatureDoesNotMatch", 403},
    ErrorEntry{Errc::invalid_access_key_id, "InvalidAccessKeyId", 403},
    ErrorEntry{Errc::authorization_header_malformed, "AuthorizationHeaderMalformed", 400},
    ErrorEntry{Errc::authorization_query_parameters_error, "AuthorizationQueryParametersError",
               400},
    ErrorEntry{Errc::request_time_too_skewed, "RequestTimeTooSkewed", 403},
    ErrorEntry{Errc::expired_token, "ExpiredToken", 400},
    ErrorEntry{Errc::missing_security_header, "MissingSecurityHeader", 400},
    ErrorEntry{Errc::x_amz_content_sha256_mismatch, "XAmzContentSHA256Mismatch", 400},
    ErrorEntry{Errc::bad_digest, "BadDigest", 400},
    ErrorEntry{Errc::invalid_digest, "InvalidDigest", 400},
    ErrorEntry{Errc::no_such_bucket, "NoSuchBucket", 404},
    ErrorEntry{Errc::no_such_key, "NoSuchKey", 404},
    ErrorEntry{Errc::no_such_upload, "NoSuchUpload", 404},
    ErrorEntry{Errc::bucket_not_empty, "BucketNotEmpty", 409},
    ErrorEntry{Errc::bucket_already_owned_by_you, "BucketAlreadyOwnedByYou", 409},
    ErrorEntry{Errc::invalid_bucket_name, "InvalidBucketName", 400},
    ErrorEntry{Errc::invalid_key, "InvalidArgument", 400},
    ErrorEntry{Errc::key_too_long, "KeyTooLongError", 400},
    ErrorEntry{Errc::invalid_argument, "InvalidArgument", 400},
    ErrorEntry{Errc::invalid_range, "InvalidRange", 416},
    ErrorEntry{Errc::invalid_request, "InvalidRequest", 400},
    ErrorEntry{Errc::invalid_part, "InvalidPart", 400},
    ErrorEntry{Errc::invalid_part_order, "InvalidPartOrder", 400},
    ErrorEntry{Errc::entity_too_small, "EntityTooSmall", 400},
    ErrorEntry{Errc::entity_too_large, "EntityTooLarge", 400},
    ErrorEntry{Errc::incomplete_body, "IncompleteBody", 400},
    ErrorEntry{Errc::malformed_xml, "MalformedXML", 400},
    ErrorEntry{Errc::missing_content_length, "MissingContentLength", 411},
    ErrorEntry{Errc::method_not_allowed, "MethodNotAllowed", 405},
    ErrorEntry{Errc::not_implemented, "NotImplemented", 501},
    ErrorEntry{Errc::precondition_failed, "PreconditionFailed", 412},
    ErrorEntry{Errc::request_timeout, "RequestTimeout", 400},
    ErrorEntry{Errc::metadata_too_large, "MetadataTooLarge", 400},
    ErrorEntry{Errc::internal_error, "InternalError", 500},
    ErrorEntry{Errc::slow_down, "SlowDown", 503},
    ErrorEntry{Errc::service_unavailable, "ServiceUnavailable", 503},
};

const ErrorEntry& find_entry(Errc e) {
    for (const auto& entry : kErrors) {
        if (entry.errc == e) {
            return entry;
        }
    }
    static_assert(kErrors[34].errc == Errc::internal_error);
    return kErrors[34];
}

class S3Category : public std::error_category {
  public:
    const char* name() const noexcept override { return "s3"; }
    std::string message(int value) const override {
        return std::string(error_code_name(static_cast<Errc>(value)));
    }
};

}  // namespace

const std::error_category& s3_category() {
    static const S3Category category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), s3_category()}; }

Error make_error(Errc e, std::string message) {
    return Error{make_error_code(e), std::move(message)};
}

std::string_view error_code_name(Errc e) { return find_entry(e).code; }

unsigned http_status(Errc e) { return find_entry(e).status; }

}  // namespace imgbus::s3
