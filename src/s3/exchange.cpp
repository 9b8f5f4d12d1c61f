// SPDX-License-Identifier: MIT
#include "exchange.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>

#include "imgbus/s3/error.hpp"
#include "time_format.hpp"
#include "xml.hpp"

namespace imgbus::s3 {
namespace http = beast::http;
namespace {

constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

Errc from_store(store::Errc e) {
    switch (e) {
        case store::Errc::no_such_bucket:
            return Errc::no_such_bucket;
        case store::Errc::no_such_key:
            return Errc::no_such_key;
        case store::Errc::bucket_already_exists:
            return Errc::bucket_already_owned_by_you;
        case store::Errc::bucket_not_empty:
            return Errc::bucket_not_empty;
        case store::Errc::invalid_bucket_name:
            return Errc::invalid_bucket_name;
        case store::Errc::invalid_key:
            return Errc::invalid_key;
        case store::Errc::entity_too_large:
            return Errc::entity_too_large;
        case store::Errc::metadata_too_large:
            return Errc::metadata_too_large;
        case store::Errc::invalid_metadata:
            return Errc::invalid_argument;
        case store::Errc::io_error:
        case store::Errc::invalid_credentials:  // this server's own store refused its key
        case store::Errc::access_denied:
            return Errc::internal_error;
        case store::Errc::invalid_request:
            return Errc::invalid_request;
    }
    return Errc::internal_error;
}

Error read_failure(const boost::system::error_code& error) {
    if (error == beast::error::timeout) {
        return make_error(Errc::request_timeout,
                          "the connection was idle too long while the body was read");
    }
    if (error == http::error::body_limit) {
        return make_error(Errc::entity_too_large, "the request body is larger than allowed");
    }
    return make_error(Errc::incomplete_body,
                      "the request body ended before the declared length: " + error.message());
}

}  // namespace

Error to_s3_error(const Error& error) {
    if (error.code.category() == s3_category()) {
        return error;
    }
    if (error.code.category() == store::store_category()) {
        auto errc = from_store(static_cast<store::Errc>(error.code.value()));
        if (errc == Errc::invalid_key &&
            error.message.find("maximum is 1024") != std::string::npos) {
            errc = Errc::key_too_long;
        }
        return make_error(errc, error.message);
    }
    return make_error(Errc::internal_error, error.message);
}

Exchange::Exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer, RequestParser& parser,
                   const ServerOptions& options, std::string request_id)
    : request_id(std::move(request_id)),
      stream_(stream),
      buffer_(buffer),
      parser_(parser),
      options_(options) {}

Result<void> Exchange::load_request() {
    const auto& request = parser_.get();
    method = std::string(request.method_string());
    keep_alive = request.keep_alive();
    for (const auto& field : request) {
        headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    const std::string_view target = request.target();
    if (target.empty() || target.front() != '/') {
        return make_error(Errc::invalid_request, "the request target must be an absolute path");
    }
    const auto question = target.find('?');
    raw_path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) {
        auto parsed = parse_query(target.substr(question + 1));
        if (!parsed) {
            return make_error(Errc::invalid_argument, "the query string has a malformed % escape");
        }
        query = std::move(*parsed);
    }
    if (parser_.content_length()) {
        content_length = *parser_.content_length();
    }
    return parse_path(header_value(headers, "host"));
}

Result<void> Exchange::parse_path(std::string_view host) {
    auto path = percent_decode(raw_path);
    if (!path) {
        return make_error(Errc::invalid_argument, "the request path has a malformed % escape");
    }
    const auto colon = host.rfind(':');
    if (colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
        host = host.substr(0, colon);
    }
    const auto& suffix = options_.virtual_host_suffix;
    if (!suffix.empty() && host.size() > suffix.size() + 1 && host.ends_with(suffix) &&
        host[host.size() - suffix.size() - 1] == '.') {
        bucket = std::string(host.substr(0, host.size() - suffix.size() - 1));
        key = path->substr(1);
        has_key = !key.empty();
        return {};
    }
    const std::string_view rest = std::string_view(*path).substr(1);
    const auto slash = rest.find('/');
    bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
        key = std::string(rest.substr(slash + 1));
        has_key = !key.empty();
    }
    return {};
}

Result<void> Exchange::start_body(AuthResult auth) {
    auth_ = std::move(auth);
    content_md5_ = std::string(header_value(headers, "content-md5"));
    if (!content_md5_.empty()) {
        auto decoded = base64_decode(content_md5_);
        if (!decoded || decoded->size() != 16) {
            return make_error(Errc::invalid_digest,
                              fmt::format("Content-MD5 '{}' is not the base64 of a 16-byte MD5",
                                          content_md5_.substr(0, 64)));
        }
    }
    if (auth_.mode != PayloadMode::streaming) {
        return {};
    }
    const auto decoded = parse_size(header_value(headers, "x-amz-decoded-content-length"));
    if (!decoded) {
        return make_error(Errc::missing_content_length,
                          "an aws-chunked upload needs x-amz-decoded-content-length with the "
                          "object size in bytes");
    }
    content_length = *decoded;
    decoder_ = std::make_unique<ChunkedDecoder>(auth_, *decoded);
    return {};
}

awaitable<void> Exchange::send_continue() {
    continue_sent_ = true;
    if (lower(header_value(headers, "expect")) != "100-continue" || parser_.is_done()) {
        co_return;
    }
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(options_.read_timeout);
    co_await boost::asio::async_write(stream_, boost::asio::buffer(kContinue), kNoThrow);
}

awaitable<Result<std::size_t>> Exchange::read_raw(std::span<std::uint8_t> buffer) {
    if (!continue_sent_) {
        co_await send_continue();
    }
    if (parser_.is_done()) {
        co_return std::size_t{0};
    }
    auto& body = parser_.get().body();
    body.data = buffer.data();
    body.size = buffer.size();
    stream_.expires_after(options_.read_timeout);
    auto [error, ignored] = co_await http::async_read(stream_, buffer_, parser_, kNoThrow);
    if (error == http::error::need_buffer) {
        error = {};
    }
    if (error) {
        keep_alive = false;
        co_return read_failure(error);
    }
    const std::size_t received = buffer.size() - body.size;
    raw_received_ += received;
    if (received == 0 && !parser_.is_done()) {
        co_return co_await read_raw(buffer);
    }
    co_return received;
}

awaitable<Result<std::size_t>> Exchange::read_body(std::span<std::uint8_t> buffer) {
    while (!body_finished_) {
        auto received = co_await read_raw(buffer);
        if (!received) {
            co_return received.error();
        }
        if (*received == 0) {
            co_return finish_body();
        }
        std::size_t length = *received;
        if (decoder_) {
            auto decoded = decoder_->decode(buffer.first(length));
            if (!decoded) {
                keep_alive = false;
                co_return decoded.error();
            }
            length = *decoded;
        }
        if (length == 0) {
            continue;
        }
        payload_received_ += length;
        if (content_length && payload_received_ > *content_length) {
            keep_alive = false;
            co_return make_error(Errc::incomplete_body, "the body is longer than declared");
        }
        if (auth_.mode == PayloadMode::signed_payload) {
            sha256_.update(buffer.first(length));
        }
        md5_.update(buffer.first(length));
        co_return length;
    }
    co_return std::size_t{0};
}

Result<std::size_t> Exchange::finish_body() {
    body_finished_ = true;
    if (decoder_ && !decoder_->done()) {
        return make_error(Errc::incomplete_body,
                          "the aws-chunked body ended before its final chunk");
    }
    if (content_length && payload_received_ != *content_length) {
        return make_error(Errc::incomplete_body,
                          fmt::format("the body has {} bytes but {} were declared",
                                      payload_received_, *content_length));
    }
    const auto md5 = md5_.finish();
    body_md5_hex_ = to_hex(md5);
    if (!content_md5_.empty() && base64_encode(md5) != content_md5_) {
        return make_error(Errc::bad_digest,
                          "the Content-MD5 you specified did not match what was received");
    }
    if (auth_.mode == PayloadMode::signed_payload &&
        to_hex(sha256_.finish()) != auth_.payload_sha256) {
        return make_error(Errc::x_amz_content_sha256_mismatch,
                          "the body's SHA-256 does not match x-amz-content-sha256");
    }
    return std::size_t{0};
}

awaitable<Result<std::string>> Exchange::read_small_body(std::uint64_t max_bytes) {
    if (content_length && *content_length > max_bytes) {
        keep_alive = false;
        co_return make_error(Errc::malformed_xml,
                             fmt::format("the request document has {} bytes; the limit is {}",
                                         *content_length, max_bytes));
    }
    std::string body;
    std::vector<std::uint8_t> piece(16 * 1024);
    while (true) {
        auto received = co_await read_body(piece);
        if (!received) {
            co_return received.error();
        }
        if (*received == 0) {
            co_return body;
        }
        if (body.size() + *received > max_bytes) {
            keep_alive = false;
            co_return make_error(Errc::malformed_xml, "the request document is too large");
        }
        body.append(reinterpret_cast<const char*>(piece.data()), *received);
    }
}

awaitable<void> Exchange::send(unsigned status, const HeaderList& extra, std::string body,
                               std::string_view content_type) {
    this->status = status;
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.set(http::field::server, "imgbus");
    response.set("x-amz-request-id", request_id);
    response.set(http::field::date, format_http_date(Clock::now()));
    if (!body.empty()) {
        response.set(http::field::content_type, content_type);
    }
    for (const auto& [name, value] : extra) {
        response.set(name, value);
    }
    if (!parser_.is_done()) {
        keep_alive = false;  // the unread body would be taken for the next request
    }
    const bool head = method == "HEAD";
    const auto length = body.size();
    response.body() = head ? std::string() : std::move(body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    if (head) {
        response.content_length(length);
    }
    bytes_sent_ += response.body().size();
    stream_.expires_after(options_.read_timeout);
    auto [error, ignored] = co_await http::async_write(stream_, response, kNoThrow);
    if (error) keep_alive = false;
}

awaitable<void> Exchange::send_error(const Error& error, const HeaderList& headers) {
    const auto s3_error = to_s3_error(error);
    const auto errc = static_cast<Errc>(s3_error.code.value());
    XmlWriter xml;
    xml.open("Error")
        .element("Code", error_code_name(errc))
        .element("Message", s3_error.message)
        .element("Resource", raw_path);
    if (!bucket.empty()) xml.element("BucketName", bucket);
    if (has_key) xml.element("Key", key);
    xml.element("RequestId", request_id);
    co_await send(http_status(errc), headers, xml.finish());
}

awaitable<void> Exchange::send_object(unsigned status, const HeaderList& extra,
                                      store::ObjectReader& reader, std::uint64_t offset,
                                      std::uint64_t length, bool head_only) {
    this->status = status;
    http::response<http::empty_body> response{static_cast<http::status>(status), 11};
    response.set(http::field::server, "imgbus");
    response.set("x-amz-request-id", request_id);
    response.set(http::field::date, format_http_date(Clock::now()));
    for (const auto& [name, value] : extra) {
        response.set(name, value);
    }
    if (!parser_.is_done()) keep_alive = false;
    response.keep_alive(keep_alive);
    response.content_length(length);
    http::response_serializer<http::empty_body> serializer{response};
    stream_.expires_after(options_.read_timeout);
    auto [error, ignored] = co_await http::async_write_header(stream_, serializer, kNoThrow);
    if (error || head_only) {
        if (error) keep_alive = false;
        co_return;
    }
    std::vector<std::uint8_t> piece(options_.io_buffer_bytes);
    while (length > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, piece.size()));
        auto read = reader.read(offset, std::span(piece).first(want));
        if (!read || *read == 0) {
            keep_alive = false;  // the client sees a short body and retries
            co_return;
        }
        stream_.expires_after(options_.read_timeout);
        auto [write_error, written] = co_await boost::asio::async_write(
            stream_, boost::asio::buffer(piece.data(), *read), kNoThrow);
        if (write_error) {
            keep_alive = false;
            co_return;
        }
        offset += *read;
        length -= *read;
        bytes_sent_ += *read;
    }
}

}  // namespace imgbus::s3
