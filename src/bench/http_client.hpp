// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "imgbus/result.hpp"
#include "sse.hpp"

namespace imgbus::bench {

// The server part of an http:// URL; `base_path` has no trailing slash ("" or "/imgbus").
struct ServerUrl {
    std::string host;
    std::string port = "80";
    std::string base_path;

    std::string to_string() const;
};

// Parses "http://HOST[:PORT][/PATH]", with IPv6 hosts in brackets. https is rejected with a hint.
Result<ServerUrl> parse_server_url(std::string_view text);

struct HttpResponse {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names in lower case

    std::string header(const std::string& lower_case_name) const;
};

using Deadline = std::chrono::steady_clock::time_point;

// A blocking HTTP/1.1 client over one keep-alive connection, reconnecting when the server has
// closed it. Every connect, write and read ends by its deadline with a timeout error. Not
// thread-safe: each load worker owns one.
class HttpClient {
  public:
    explicit HttpClient(ServerUrl url);

    // Sends a request to base_path + target and reads the whole response. Errors are transport
    // failures (the code is std::errc::timed_out on a timeout); any HTTP status is a
    // response.
    Result<HttpResponse> request(boost::beast::http::verb method, std::string_view target,
                                 std::string_view body, std::string_view content_type,
                                 Deadline deadline);
    Result<HttpResponse> get(std::string_view target, Deadline deadline);

    const ServerUrl& url() const { return url_; }

  private:
    Result<HttpResponse> exchange(boost::beast::http::verb method, std::string_view target,
                                  std::string_view body, std::string_view content_type,
                                  Deadline deadline);
    Result<void> connect(Deadline deadline);
    void close();

    ServerUrl url_;
    boost::asio::io_context io_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    bool connected_ = false;
};

// A GET of a text/event-stream on its own connection, read event by event.
class EventStream {
  public:
    explicit EventStream(ServerUrl url);

    // Sends the request and reads the header; fails unless the response is 200 text/event-stream.
    Result<void> open(std::string_view target, Deadline deadline);
    // The next event. Fails with std::errc::timed_out at the deadline and with
    // boost::beast::http::error::end_of_stream when the server ends the stream.
    Result<SseEvent> next(Deadline deadline);

  private:
    using Parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

    ServerUrl url_;
    boost::asio::io_context io_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::unique_ptr<Parser> parser_;
    SseParser events_;
};

}  // namespace imgbus::bench
