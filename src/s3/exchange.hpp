// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "auth.hpp"
#include "chunked_decoder.hpp"
#include "crypto.hpp"
#include "imgbus/result.hpp"
#include "imgbus/s3/server.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::s3 {

namespace beast = boost::beast;
using boost::asio::awaitable;

using RequestParser = beast::http::request_parser<beast::http::buffer_body>;

// One request and its response on a connection. The handler reads the body through read_body,
// which decodes aws-chunked framing, checks every chunk signature, and at the end checks the
// signed SHA-256 and Content-MD5. It answers with exactly one send_* call.
class Exchange {
  public:
    Exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer, RequestParser& parser,
             const ServerOptions& options, std::string request_id);

    // Fills the request fields from the parsed header. Fails with the S3 error for a malformed
    // target, an invalid length or a bucket name that is not a valid DNS label.
    Result<void> load_request();
    // Sets up body decoding after authentication.
    Result<void> start_body(AuthResult auth);

    // Reads the next piece of the body into `buffer`; 0 means the body ended and was verified.
    awaitable<Result<std::size_t>> read_body(std::span<std::uint8_t> buffer);
    // Reads a whole body of at most `max_bytes` (XML request documents).
    awaitable<Result<std::string>> read_small_body(std::uint64_t max_bytes);
    // The MD5 of the body read so far (hex); complete once read_body has returned 0.
    const std::string& body_md5_hex() const { return body_md5_hex_; }

    awaitable<void> send(unsigned status, const HeaderList& headers, std::string body,
                         std::string_view content_type = "application/xml");
    awaitable<void> send_error(const Error& error, const HeaderList& headers = {});
    // Sends `length` bytes of `reader` from `offset`, in pieces of the connection buffer size.
    awaitable<void> send_object(unsigned status, const HeaderList& headers,
                                store::ObjectReader& reader, std::uint64_t offset,
                                std::uint64_t length, bool head_only);

    // Request fields.
    std::string method;
    std::string raw_path;  // still percent-encoded
    QueryParams query;
    HeaderList headers;
    std::string bucket;  // empty for the service (ListBuckets)
    std::string key;     // empty for bucket requests
    std::string request_id;
    bool has_key = false;
    // The payload size: Content-Length, or x-amz-decoded-content-length for aws-chunked.
    std::optional<std::uint64_t> content_length;
    bool keep_alive = true;
    unsigned status = 0;  // of the response, once sent
    bool body_done() const { return body_finished_; }
    std::uint64_t bytes_sent() const { return bytes_sent_; }

  private:
    awaitable<Result<std::size_t>> read_raw(std::span<std::uint8_t> buffer);
    awaitable<void> send_continue();
    Result<std::size_t> finish_body();
    Result<void> parse_path(std::string_view host);

    beast::tcp_stream& stream_;
    beast::flat_buffer& buffer_;
    RequestParser& parser_;
    const ServerOptions& options_;
    AuthResult auth_;
    std::unique_ptr<ChunkedDecoder> decoder_;
    Digest sha256_{Digest::Kind::sha256};
    Digest md5_{Digest::Kind::md5};
    std::string content_md5_;  // base64, from the Content-MD5 header
    std::string body_md5_hex_;
    std::uint64_t raw_received_ = 0;
    std::uint64_t payload_received_ = 0;
    bool continue_sent_ = false;
    bool body_finished_ = false;
    bool responded_ = false;
    std::uint64_t bytes_sent_ = 0;
};

// Translates a store error (or any other) into the S3 error a client expects.
Error to_s3_error(const Error& error);

}  // namespace imgbus::s3
