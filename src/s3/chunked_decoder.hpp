// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "auth.hpp"
#include "crypto.hpp"
#include "imgbus/result.hpp"

namespace imgbus::s3 {

// Decodes an aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and verifies the signature of
// every chunk. The format is, per chunk,
//   hex(size) ";chunk-signature=" hex(signature) CRLF data CRLF
// ending with a chunk of size 0 and a CRLF. Each signature covers the SHA-256 of its chunk's data
// and the previous signature, starting from the seed signature of the Authorization header, so
// chunks can be neither altered, dropped nor reordered.
//
// Data is released as it arrives, before its chunk's signature is checked at the chunk's end. A
// caller must therefore discard everything it wrote when a later call fails.
class ChunkedDecoder {
  public:
    ChunkedDecoder(const AuthResult& auth, std::uint64_t decoded_length);

    // Decodes the bytes in `buffer` in place: the payload bytes found in it are moved to its
    // front and their count is returned. Fails with SignatureDoesNotMatch, IncompleteBody or
    // InvalidRequest (bad framing).
    Result<std::size_t> decode(std::span<std::uint8_t> buffer);
    // True once the final zero-size chunk and its CRLF have been read.
    bool done() const { return state_ == State::done; }
    std::uint64_t decoded_bytes() const { return decoded_; }

  private:
    enum class State { header, data, data_crlf, final_crlf, done };

    Result<void> parse_header();
    Result<void> finish_chunk();
    Result<void> expect_crlf(std::uint8_t byte, State next);

    const AuthResult& auth_;
    std::uint64_t expected_length_;
    std::uint64_t decoded_ = 0;
    State state_ = State::header;
    std::string line_;
    std::uint64_t chunk_remaining_ = 0;
    std::string chunk_signature_;
    std::string previous_signature_;
    Digest chunk_digest_{Digest::Kind::sha256};
    int crlf_seen_ = 0;
};

}  // namespace imgbus::s3
