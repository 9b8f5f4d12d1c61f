// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "imgbus/result.hpp"

namespace imgbus::s3 {

// The S3 error codes the server returns. Each maps to the code string and HTTP status that
// Amazon S3 uses for it (see error_code_name and http_status).
enum class Errc {
    access_denied = 1,
    signature_does_not_match,
    invalid_access_key_id,
    authorization_header_malformed,
    authorization_query_parameters_error,
    request_time_too_skewed,
    expired_token,
    missing_security_header,
    x_amz_content_sha256_mismatch,
    bad_digest,
    invalid_digest,
    no_such_bucket,
    no_such_key,
    no_such_upload,
    bucket_not_empty,
    bucket_already_owned_by_you,
    invalid_bucket_name,
    invalid_key,  // S3 answers KeyTooLongError or InvalidArgument; see error_code_name
    key_too_long,
    invalid_argument,
    invalid_range,
    invalid_request,
    invalid_part,
    invalid_part_order,
    entity_too_small,
    entity_too_large,
    incomplete_body,
    malformed_xml,
    missing_content_length,
    method_not_allowed,
    not_implemented,
    precondition_failed,
    request_timeout,
    metadata_too_large,
    internal_error,
    slow_down,
    service_unavailable,
};

const std::error_category& s3_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

// The S3 error code string, such as "NoSuchKey".
std::string_view error_code_name(Errc e);
// The HTTP status S3 answers with, such as 404 for NoSuchKey.
unsigned http_status(Errc e);

}  // namespace imgbus::s3

template <>
struct std::is_error_code_enum<imgbus::s3::Errc> : std::true_type {};
