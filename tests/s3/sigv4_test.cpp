// SPDX-License-Identifier: MIT
// Signature checks against the worked examples in AWS's "Signature Calculations for the
// Authorization Header" and "Authenticating Requests: Using Query Parameters" pages of the S3 API
// reference (access key AKIAIOSFODNN7EXAMPLE, 24 May 2013, us-east-1).
#include "sigv4.hpp"

#include <catch2/catch.hpp>

#include "auth.hpp"
#include "imgbus/s3/error.hpp"

using namespace imgbus::s3;

namespace {

const Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const auto kExampleTime = *parse_amz_date("20130524T000000Z");
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

HeaderList get_object_headers(const std::string& signature) {
    return {{"host", "examplebucket.s3.amazonaws.com"},
            {"range", "bytes=0-9"},
            {"x-amz-content-sha256", kEmpty},
            {"x-amz-date", "20130524T000000Z"},
            {"authorization",
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
             "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=" +
                 signature}};
}

imgbus::Result<AuthResult> check(const std::string& method, const std::string& path,
                                 const QueryParams& query, const HeaderList& headers,
                                 Clock::time_point now = kExampleTime) {
    return authenticate(RequestView{method, path, query, headers}, kExample, now);
}

Errc errc_of(const imgbus::Error& error) { return static_cast<Errc>(error.code.value()); }

}  // namespace

TEST_CASE("signing key and GET object example", "[s3]") {
    sigv4::CanonicalRequest request{"GET",
                                    "/test.txt",
                                    "",
                                    {{"host", "examplebucket.s3.amazonaws.com"},
                                     {"range", "bytes=0-9"},
                                     {"x-amz-content-sha256", kEmpty},
                                     {"x-amz-date", "20130524T000000Z"}},
                                    kEmpty};
    const sigv4::Scope scope{"20130524", "us-east-1", "s3"};
    const auto string_to_sign =
        sigv4::string_to_sign("20130524T000000Z", scope, request.to_string());
    CHECK(string_to_sign ==
          "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    const auto key = sigv4::signing_key(kExample.secret_key, scope);
    CHECK(sigv4::signature(key, string_to_sign) ==
          "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("authenticate accepts the GET object example", "[s3]") {
    auto result = check(
        "GET", "/test.txt", {},
        get_object_headers("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
    REQUIRE(result.ok());
    CHECK(result->mode == PayloadMode::signed_payload);
    CHECK(result->payload_sha256 == kEmpty);
}

TEST_CASE("authenticate accepts the PUT object example", "[s3]") {
    const std::string body = "Welcome to Amazon S3.";
    const std::string body_hash = sha256_hex(body);
    CHECK(body_hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    HeaderList headers{
        {"host", "examplebucket.s3.amazonaws.com"},
        {"date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"x-amz-content-sha256", body_hash},
        {"authorization",
         "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
         "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature="
         "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"}};
    auto result = check("PUT", "/test%24file.text", {}, headers);
    REQUIRE(result.ok());
    CHECK(result->payload_sha256 == body_hash);
}

TEST_CASE("authenticate accepts the presigned URL example", "[s3]") {
    auto query = parse_query(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
        "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
        "SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    REQUIRE(query.has_value());
    const HeaderList headers{{"host", "examplebucket.s3.amazonaws.com"}};
    auto result = check("GET", "/test.txt", *query, headers);
    REQUIRE(result.ok());
    CHECK(result->presigned);
    CHECK(result->mode == PayloadMode::unsigned_payload);

    auto last_second =
        check("GET", "/test.txt", *query, headers, kExampleTime + std::chrono::seconds(86400));
    CHECK(last_second.ok());
    auto expired =
        check("GET", "/test.txt", *query, headers, kExampleTime + std::chrono::seconds(86401));
    REQUIRE_FALSE(expired.ok());
    CHECK(errc_of(expired.error()) == Errc::access_denied);
    CHECK(expired.error().message.find("expired") != std::string::npos);
}

TEST_CASE("presigned URL with altered parts is rejected", "[s3]") {
    const std::string base =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
        "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-"
        "Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    const HeaderList headers{{"host", "examplebucket.s3.amazonaws.com"}};
    auto longer = check("GET", "/test.txt", *parse_query(base + "&X-Amz-Expires=86401"), headers);
    REQUIRE_FALSE(longer.ok());
    CHECK(errc_of(longer.error()) == Errc::signature_does_not_match);
    auto other_key =
        check("GET", "/other.txt", *parse_query(base + "&X-Amz-Expires=86400"), headers);
    REQUIRE_FALSE(other_key.ok());
    CHECK(errc_of(other_key.error()) == Errc::signature_does_not_match);
    auto too_long =
        check("GET", "/test.txt", *parse_query(base + "&X-Amz-Expires=604801"), headers);
    REQUIRE_FALSE(too_long.ok());
    CHECK(errc_of(too_long.error()) == Errc::authorization_query_parameters_error);
    auto negative = check("GET", "/test.txt", *parse_query(base + "&X-Amz-Expires=-5"), headers);
    REQUIRE_FALSE(negative.ok());
    CHECK(errc_of(negative.error()) == Errc::authorization_query_parameters_error);
}

TEST_CASE("wrong signatures are rejected", "[s3]") {
    const std::string good = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    std::string flipped = good;
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    auto wrong = check("GET", "/test.txt", {}, get_object_headers(flipped));
    REQUIRE_FALSE(wrong.ok());
    CHECK(errc_of(wrong.error()) == Errc::signature_does_not_match);

    auto headers = get_object_headers(good);
    headers[1].second = "bytes=0-99";  // the range was signed as 0-9
    auto altered = check("GET", "/test.txt", {}, headers);
    REQUIRE_FALSE(altered.ok());
    CHECK(errc_of(altered.error()) == Errc::signature_does_not_match);

    auto other_path = check("GET", "/test.txt2", {}, get_object_headers(good));
    REQUIRE_FALSE(other_path.ok());
    CHECK(errc_of(other_path.error()) == Errc::signature_does_not_match);
}

TEST_CASE("other secret key gives SignatureDoesNotMatch", "[s3]") {
    const Credentials other{"AKIAIOSFODNN7EXAMPLE", "another-secret"};
    const auto headers =
        get_object_headers("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    auto result = authenticate(RequestView{"GET", "/test.txt", {}, headers}, other, kExampleTime);
    REQUIRE_FALSE(result.ok());
    CHECK(errc_of(result.error()) == Errc::signature_does_not_match);
}

TEST_CASE("unknown access key is InvalidAccessKeyId", "[s3]") {
    const Credentials other{"SOMEONEELSE", kExample.secret_key};
    const auto headers =
        get_object_headers("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    auto result = authenticate(RequestView{"GET", "/test.txt", {}, headers}, other, kExampleTime);
    REQUIRE_FALSE(result.ok());
    CHECK(errc_of(result.error()) == Errc::invalid_access_key_id);
}

TEST_CASE("skewed request time is rejected", "[s3]") {
    const auto headers =
        get_object_headers("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    auto late = check("GET", "/test.txt", {}, headers, kExampleTime + std::chrono::minutes(16));
    REQUIRE_FALSE(late.ok());
    CHECK(errc_of(late.error()) == Errc::request_time_too_skewed);
    auto within = check("GET", "/test.txt", {}, headers, kExampleTime + std::chrono::minutes(14));
    CHECK(within.ok());
}

TEST_CASE("anonymous and malformed authorization", "[s3]") {
    auto anonymous = check("GET", "/test.txt", {}, {{"host", "localhost"}});
    REQUIRE_FALSE(anonymous.ok());
    CHECK(errc_of(anonymous.error()) == Errc::access_denied);

    const char* malformed[] = {
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request,"
        "SignedHeaders=host,Signature=00",
        "AWS4-HMAC-SHA256 Credential=A/B,SignedHeaders=host,Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=x-amz-date;host,Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=Host,Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;;x,Signature=00",
        "Bearer abc",
    };
    for (const char* value : malformed) {
        HeaderList headers{{"host", "localhost"},
                           {"x-amz-date", "20130524T000000Z"},
                           {"x-amz-content-sha256", kEmpty},
                           {"authorization", value}};
        auto result = check("GET", "/test.txt", {}, headers);
        INFO(value);
        REQUIRE_FALSE(result.ok());
        CHECK(errc_of(result.error()) == Errc::authorization_header_malformed);
    }

    HeaderList v2{{"host", "localhost"}, {"authorization", "AWS AKIAIOSFODNN7EXAMPLE:abc="}};
    auto signature_v2 = check("GET", "/test.txt", {}, v2);
    REQUIRE_FALSE(signature_v2.ok());
    CHECK(errc_of(signature_v2.error()) == Errc::invalid_request);
}

TEST_CASE("unsigned host header is rejected", "[s3]") {
    HeaderList headers{{"host", "examplebucket.s3.amazonaws.com"},
                       {"x-amz-content-sha256", kEmpty},
                       {"x-amz-date", "20130524T000000Z"},
                       {"authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                        "aws4_request,SignedHeaders=x-amz-content-sha256;x-amz-date,Signature=00"}};
    auto result = check("GET", "/test.txt", {}, headers);
    REQUIRE_FALSE(result.ok());
    CHECK(errc_of(result.error()) == Errc::authorization_header_malformed);
}

TEST_CASE("canonical header values are trimmed", "[s3]") {
    CHECK(sigv4::canonical_header_value("  a   b \t c  ") == "a b c");
    CHECK(sigv4::canonical_header_value("") == "");
    CHECK(sigv4::canonical_header_value("\"a  b\"") == "\"a b\"");
}
