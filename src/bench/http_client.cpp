// SPDX-License-Identifier: MIT
#include "http_client.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>

namespace imgbus::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using error_code = boost::system::error_code;

constexpr std::uint64_t kMaxResponseBytes = 64ULL << 20;
constexpr std::string_view kUserAgent = "imgbus-load/0.1";

// Starts one asynchronous operation and runs the client's own io_context until it completes.
template <class Initiate>
error_code run_async(asio::io_context& io, Initiate&& initiate) {
    error_code result = asio::error::would_block;
    initiate([&result](error_code error, auto&&...) { result = error; });
    io.restart();
    io.run();
    return result;
}

std::chrono::steady_clock::duration time_left(Deadline deadline) {
    return std::max<std::chrono::steady_clock::duration>(
        deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(1));
}

bool expired(Deadline deadline) { return std::chrono::steady_clock::now() >= deadline; }

// Timeouts become std::errc::timed_out so that callers need no Beast headers to detect them.
Error transport_error(error_code error, const ServerUrl& url, std::string_view what) {
    const std::string message = std::string(what) + " " + url.to_string() + ": " +
                                (error == beast::error::timeout ? "timed out" : error.message());
    if (error == beast::error::timeout) {
        return Error{std::make_error_code(std::errc::timed_out), message};
    }
    return Error{error, message};
}

Error url_error(std::string_view text, std::string_view why) {
    return Error{std::make_error_code(std::errc::invalid_argument),
                 "invalid server URL '" + std::string(text) + "': " + std::string(why) +
                     "; write http://HOST:PORT such as http://127.0.0.1:8080"};
}

// Reads "HOST[:PORT]" or "[IPV6][:PORT]" into url; text is the whole URL, for messages.
Result<void> parse_authority(std::string_view text, std::string_view authority, ServerUrl& url) {
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return url_error(text, "an IPv6 host needs a closing ']'");
        }
        url.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
    } else {
        const auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        authority.remove_prefix(colon == std::string_view::npos ? authority.size() : colon);
    }
    if (url.host.empty()) {
        return url_error(text, "no host");
    }
    if (authority.empty()) {
        return {};
    }

    const auto port = authority.substr(1);
    const bool digits =
        !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
        });
    if (authority.front() != ':' || !digits || std::stoi(std::string(port)) == 0 ||
        std::stoi(std::string(port)) > 65535) {
        return url_error(text, "the port must be a number 1..65535");
    }
    url.port = std::string(port);
    return {};
}

// Resolves the host and connects, both bounded by the deadline.
error_code connect_stream(asio::io_context& io, beast::tcp_stream& stream, const ServerUrl& url,
                          Deadline deadline) {
    if (expired(deadline)) {
        return beast::error::timeout;
    }
    asio::ip::tcp::resolver resolver(io);
    error_code resolve_error = asio::error::would_block;
    asio::ip::tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, url.port, [&](error_code error, auto results) {
        resolve_error = error;
        endpoints = std::move(results);
    });
    io.restart();
    io.run_for(time_left(deadline));
    if (resolve_error == asio::error::would_block) {
        resolver.cancel();
        io.restart();
        io.run();
        return beast::error::timeout;
    }
    if (resolve_error) {
        return resolve_error;
    }
    stream.expires_after(time_left(deadline));
    return run_async(io, [&](auto handler) { stream.async_connect(endpoints, handler); });
}

bool is_stale_connection(error_code error) {
    return error == beast_http::error::end_of_stream || error == asio::error::connection_reset ||
           error == asio::error::broken_pipe || error == asio::error::eof;
}

template <class Body>
void set_common_fields(beast_http::request<Body>& request, const ServerUrl& url) {
    request.set(beast_http::field::host, url.host.find(':') != std::string::npos
                                             ? "[" + url.host + "]:" + url.port
                                             : url.host + ":" + url.port);
    request.set(beast_http::field::user_agent, kUserAgent);
}

}  // namespace

std::string ServerUrl::to_string() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + port + base_path;
}

Result<ServerUrl> parse_server_url(std::string_view text) {
    constexpr std::string_view scheme = "http://";
    if (text.starts_with("https://")) {
        return url_error(text,
                         "https is not supported by this client; use http:// or a local "
                         "TLS-terminating proxy");
    }
    if (!text.starts_with(scheme)) {
        return url_error(text, "it must start with http://");
    }

    const std::string_view rest = text.substr(scheme.size());
    const auto slash = rest.find('/');
    ServerUrl url;
    if (slash != std::string_view::npos) {
        url.base_path = std::string(rest.substr(slash));
        while (!url.base_path.empty() && url.base_path.back() == '/') {
            url.base_path.pop_back();
        }
    }
    if (auto parsed = parse_authority(text, rest.substr(0, slash), url); !parsed) {
        return parsed.error();
    }
    return url;
}

std::string HttpResponse::header(const std::string& lower_case_name) const {
    auto found = headers.find(lower_case_name);
    return found == headers.end() ? std::string() : found->second;
}

HttpClient::HttpClient(ServerUrl url) : url_(std::move(url)), stream_(io_) {}

Result<HttpResponse> HttpClient::get(std::string_view target, Deadline deadline) {
    return request(beast_http::verb::get, target, {}, {}, deadline);
}

Result<HttpResponse> HttpClient::request(beast_http::verb method, std::string_view target,
                                         std::string_view body, std::string_view content_type,
                                         Deadline deadline) {
    const bool reused = connected_;
    auto response = exchange(method, target, body, content_type, deadline);
    // A kept-alive connection that the server closed while idle fails before any response.
    // Such a request never reached the server, so one more attempt on a new connection is safe.
    if (!response && reused && is_stale_connection(response.error().code)) {
        close();
        response = exchange(method, target, body, content_type, deadline);
    }
    return response;
}

Result<HttpResponse> HttpClient::exchange(beast_http::verb method, std::string_view target,
                                          std::string_view body, std::string_view content_type,
                                          Deadline deadline) {
    if (auto connected = connect(deadline); !connected) {
        return connected.error();
    }
    beast_http::request<beast_http::span_body<const char>> request{
        method, url_.base_path + std::string(target), 11};
    set_common_fields(request, url_);
    if (!content_type.empty()) {
        request.set(beast_http::field::content_type, content_type);
    }
    request.body() = {body.data(), body.size()};
    request.keep_alive(true);
    request.prepare_payload();

    stream_.expires_after(time_left(deadline));
    auto error =
        run_async(io_, [&](auto handler) { beast_http::async_write(stream_, request, handler); });
    if (error) {
        close();
        return transport_error(error, url_, "cannot send the request to");
    }

    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    stream_.expires_after(time_left(deadline));
    error = run_async(
        io_, [&](auto handler) { beast_http::async_read(stream_, buffer_, parser, handler); });
    if (error) {
        close();
        return transport_error(error, url_, "no complete response from");
    }

    auto message = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        response.headers[name] = std::string(field.value());
    }
    response.body = std::move(message.body());
    if (!message.keep_alive()) {
        close();
    }
    return response;
}

Result<void> HttpClient::connect(Deadline deadline) {
    if (connected_) {
        return {};
    }
    buffer_.clear();
    if (auto error = connect_stream(io_, stream_, url_, deadline)) {
        return transport_error(error, url_, "cannot connect to");
    }
    connected_ = true;
    return {};
}

void HttpClient::close() {
    error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
}

EventStream::EventStream(ServerUrl url) : url_(std::move(url)), stream_(io_) {}

Result<void> EventStream::open(std::string_view target, Deadline deadline) {
    if (auto error = connect_stream(io_, stream_, url_, deadline)) {
        return transport_error(error, url_, "cannot connect to");
    }
    beast_http::request<beast_http::empty_body> request{beast_http::verb::get,
                                                        url_.base_path + std::string(target), 11};
    set_common_fields(request, url_);
    request.set(beast_http::field::accept, "text/event-stream");
    stream_.expires_after(time_left(deadline));
    auto error =
        run_async(io_, [&](auto handler) { beast_http::async_write(stream_, request, handler); });
    if (error) {
        return transport_error(error, url_, "cannot send the event request to");
    }

    parser_ = std::make_unique<Parser>();
    parser_->body_limit(boost::none);  // a stream has no end; the deadline bounds it
    stream_.expires_after(time_left(deadline));
    error = run_async(io_, [&](auto handler) {
        beast_http::async_read_header(stream_, buffer_, *parser_, handler);
    });
    if (error) {
        return transport_error(error, url_, "no event stream header from");
    }
    const auto& header = parser_->get();
    const auto type = header[beast_http::field::content_type];
    if (header.result_int() != 200 || !type.starts_with("text/event-stream")) {
        return Error{std::make_error_code(std::errc::protocol_not_supported),
                     "GET " + std::string(target) + " returned " +
                         std::to_string(header.result_int()) + " " + std::string(type) +
                         " instead of a text/event-stream"};
    }
    return {};
}

Result<SseEvent> EventStream::next(Deadline deadline) {
    while (true) {
        if (auto event = events_.next()) {
            return std::move(*event);
        }
        if (parser_->is_done()) {
            return transport_error(beast_http::error::end_of_stream, url_, "event stream ended at");
        }
        char chunk[8192];
        parser_->get().body().data = chunk;
        parser_->get().body().size = sizeof chunk;
        stream_.expires_after(time_left(deadline));
        auto error = run_async(io_, [&](auto handler) {
            beast_http::async_read_some(stream_, buffer_, *parser_, handler);
        });
        if (error && error != beast_http::error::need_buffer) {
            return transport_error(error, url_, "event stream interrupted at");
        }
        events_.feed(std::string_view(chunk, sizeof chunk - parser_->get().body().size));
    }
}

}  // namespace imgbus::bench
