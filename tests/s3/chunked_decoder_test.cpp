// SPDX-License-Identifier: MIT
// The aws-chunked example of AWS's "Transferring Payload in Multiple Chunks" page: 65536 + 1024
// bytes of 'a' in two chunks, seed signature 4f232c43..., signed with the example credentials on
// 24 May 2013 in us-east-1.
#include "chunked_decoder.hpp"

#include <catch2/catch.hpp>

#include "imgbus/s3/error.hpp"

using namespace imgbus::s3;

namespace {

constexpr const char* kSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr const char* kChunk1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr const char* kChunk2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr const char* kFinal = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

AuthResult example_auth() {
    AuthResult auth;
    auth.mode = PayloadMode::streaming;
    auth.amz_date = "20130524T000000Z";
    auth.scope = sigv4::Scope{"20130524", "us-east-1", "s3"};
    auth.signing_key = sigv4::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", auth.scope);
    auth.seed_signature = kSeed;
    return auth;
}

std::string example_body() {
    return std::string("10000;chunk-signature=") + kChunk1 + "\r\n" + std::string(65536, 'a') +
           "\r\n" + "400;chunk-signature=" + kChunk2 + "\r\n" + std::string(1024, 'a') + "\r\n" +
           "0;chunk-signature=" + kFinal + "\r\n\r\n";
}

// Feeds `body` in pieces of `piece` bytes; returns the decoded payload or the first error.
imgbus::Result<std::string> decode_all(const std::string& body, std::size_t piece,
                                       std::uint64_t decoded_length = 66560) {
    const auto auth = example_auth();
    ChunkedDecoder decoder(auth, decoded_length);
    std::string out;
    for (std::size_t at = 0; at < body.size(); at += piece) {
        std::vector<std::uint8_t> buffer(body.begin() + at,
                                         body.begin() + std::min(body.size(), at + piece));
        auto decoded = decoder.decode(buffer);
        if (!decoded) return decoded.error();
        out.append(buffer.begin(), buffer.begin() + *decoded);
    }
    if (!decoder.done()) {
        return make_error(Errc::incomplete_body, "not done");
    }
    return out;
}

Errc errc_of(const imgbus::Error& error) { return static_cast<Errc>(error.code.value()); }

}  // namespace

TEST_CASE("chunk signatures of the AWS example", "[s3]") {
    const auto auth = example_auth();
    const auto first = sigv4::signature(
        auth.signing_key, sigv4::chunk_string_to_sign(auth.amz_date, auth.scope, kSeed,
                                                      sha256_hex(std::string(65536, 'a'))));
    CHECK(first == kChunk1);
    const auto second = sigv4::signature(
        auth.signing_key, sigv4::chunk_string_to_sign(auth.amz_date, auth.scope, kChunk1,
                                                      sha256_hex(std::string(1024, 'a'))));
    CHECK(second == kChunk2);
    const auto last = sigv4::signature(
        auth.signing_key,
        sigv4::chunk_string_to_sign(auth.amz_date, auth.scope, kChunk2, sha256_hex("")));
    CHECK(last == kFinal);
}

TEST_CASE("decoder accepts the AWS example in any split", "[s3]") {
    const auto body = example_body();
    CHECK(body.size() == 66824);  // the example's Content-Length
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, body.size()}) {
        INFO("piece size " << piece);
        auto decoded = decode_all(body, piece);
        REQUIRE(decoded.ok());
        CHECK(*decoded == std::string(66560, 'a'));
    }
}

TEST_CASE("decoder rejects an altered chunk", "[s3]") {
    auto body = example_body();
    body[200] = 'b';
    auto decoded = decode_all(body, 4096);
    REQUIRE_FALSE(decoded.ok());
    CHECK(errc_of(decoded.error()) == Errc::signature_does_not_match);
}

TEST_CASE("decoder rejects reordered or dropped chunks", "[s3]") {
    const std::string second =
        std::string("400;chunk-signature=") + kChunk2 + "\r\n" + std::string(1024, 'a') + "\r\n";
    const std::string final_chunk = std::string("0;chunk-signature=") + kFinal + "\r\n\r\n";
    auto skipped = decode_all(second + final_chunk, 512, 1024);
    REQUIRE_FALSE(skipped.ok());
    CHECK(errc_of(skipped.error()) == Errc::signature_does_not_match);

    auto body = example_body();
    auto truncated = decode_all(body.substr(0, body.size() - final_chunk.size()), 4096);
    REQUIRE_FALSE(truncated.ok());
    CHECK(errc_of(truncated.error()) == Errc::incomplete_body);
}

TEST_CASE("decoder rejects framing errors", "[s3]") {
    const std::string bad_bodies[] = {
        "zz;chunk-signature=" + std::string(64, '0') + "\r\n",
        "10;signature=" + std::string(64, '0') + "\r\n",
        "10;chunk-signature=abc\r\n",
        std::string(300, '1') + "\r\n",
        ";chunk-signature=" + std::string(64, '0') + "\r\n",
        "fffffffffffffffffff;chunk-signature=" + std::string(64, '0') + "\r\n",
    };
    for (const auto& body : bad_bodies) {
        INFO(body.substr(0, 40));
        auto decoded = decode_all(body, 64);
        REQUIRE_FALSE(decoded.ok());
        CHECK(errc_of(decoded.error()) == Errc::invalid_request);
    }
}

TEST_CASE("decoder rejects more data than declared", "[s3]") {
    auto decoded = decode_all(example_body(), 4096, 1000);
    REQUIRE_FALSE(decoded.ok());
    CHECK(errc_of(decoded.error()) == Errc::incomplete_body);
    auto trailing = decode_all(example_body() + "x", 4096);
    REQUIRE_FALSE(trailing.ok());
    CHECK(errc_of(trailing.error()) == Errc::invalid_request);
}
