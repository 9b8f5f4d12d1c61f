// SPDX-License-Identifier: MIT
#include "chunked_decoder.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "imgbus/s3/error.hpp"
#include "sigv4.hpp"

namespace imgbus::s3 {
namespace {

constexpr std::size_t kMaxHeaderLine = 256;
constexpr std::string_view kSignatureField = ";chunk-signature=";

Error framing_error(const std::string& what) {
    return make_error(Errc::invalid_request, "malformed aws-chunked body: " + what);
}

}  // namespace

ChunkedDecoder::ChunkedDecoder(const AuthResult& auth, std::uint64_t decoded_length)
    : auth_(auth), expected_length_(decoded_length), previous_signature_(auth.seed_signature) {}

Result<std::size_t> ChunkedDecoder::decode(std::span<std::uint8_t> buffer) {
    std::size_t written = 0;
    std::size_t at = 0;
    while (at < buffer.size()) {
        switch (state_) {
            case State::header: {
                const char c = static_cast<char>(buffer[at++]);
                line_.push_back(c);
                if (line_.size() > kMaxHeaderLine) {
                    return framing_error("a chunk header is longer than 256 bytes");
                }
                if (line_.size() >= 2 && line_.ends_with("\r\n")) {
                    if (auto parsed = parse_header(); !parsed) return parsed.error();
                }
                break;
            }
            case State::data: {
                const auto take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(chunk_remaining_, buffer.size() - at));
                chunk_digest_.update(buffer.subspan(at, take));
                std::memmove(buffer.data() + written, buffer.data() + at, take);
                written += take;
                at += take;
                chunk_remaining_ -= take;
                decoded_ += take;
                if (chunk_remaining_ == 0) {
                    if (auto verified = finish_chunk(); !verified) return verified.error();
                    state_ = State::data_crlf;
                }
                break;
            }
            case State::data_crlf:
                if (auto ok = expect_crlf(buffer[at++], State::header); !ok) return ok.error();
                break;
            case State::final_crlf:
                if (auto ok = expect_crlf(buffer[at++], State::done); !ok) return ok.error();
                break;
            case State::done:
                return framing_error("data follows the final chunk");
        }
    }
    return written;
}

Result<void> ChunkedDecoder::parse_header() {
    const std::string_view line(line_.data(), line_.size() - 2);
    const auto field = line.find(kSignatureField);
    if (field == std::string_view::npos || field == 0 || field > 16) {
        return framing_error("a chunk header lacks ';chunk-signature=' after a hex size");
    }
    std::uint64_t size = 0;
    const auto [end, error] = std::from_chars(line.data(), line.data() + field, size, 16);
    if (error != std::errc() || end != line.data() + field) {
        return framing_error(
            fmt::format("the chunk size '{}' is not hexadecimal", line.substr(0, field)));
    }
    chunk_signature_ = std::string(line.substr(field + kSignatureField.size()));
    if (chunk_signature_.size() != 64) {
        return framing_error("a chunk signature is not 64 hex digits");
    }
    if (size > expected_length_ - decoded_) {
        return make_error(Errc::incomplete_body,
                          fmt::format("the chunks carry more than x-amz-decoded-content-length "
                                      "({} bytes)",
                                      expected_length_));
    }
    line_.clear();
    chunk_remaining_ = size;
    if (size > 0) {
        state_ = State::data;
        return {};
    }
    if (auto verified = finish_chunk(); !verified) return verified.error();
    if (decoded_ != expected_length_) {
        return make_error(Errc::incomplete_body,
                          fmt::format("the chunks carry {} bytes but x-amz-decoded-content-length "
                                      "is {}",
                                      decoded_, expected_length_));
    }
    state_ = State::final_crlf;
    return {};
}

Result<void> ChunkedDecoder::finish_chunk() {
    const auto data_hash = to_hex(chunk_digest_.finish());
    const auto expected = sigv4::signature(
        auth_.signing_key,
        sigv4::chunk_string_to_sign(auth_.amz_date, auth_.scope, previous_signature_, data_hash));
    if (!constant_time_equal(expected, chunk_signature_)) {
        return make_error(Errc::signature_does_not_match,
                          fmt::format("the signature of the chunk ending at byte {} does not "
                                      "match; the body was altered or signed with another key",
                                      decoded_));
    }
    previous_signature_ = expected;
    return {};
}

Result<void> ChunkedDecoder::expect_crlf(std::uint8_t byte, State next) {
    const char wanted = crlf_seen_ == 0 ? '\r' : '\n';
    if (static_cast<char>(byte) != wanted) {
        return framing_error("a chunk is not followed by CRLF");
    }
    if (++crlf_seen_ == 2) {
        crlf_seen_ = 0;
        state_ = next;
    }
    return {};
}

}  // namespace imgbus::s3
