// SPDX-License-Identifier: MIT
#include "metrics_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace imgbus::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr auto kTimeout = std::chrono::seconds(10);

bhttp::response<bhttp::string_body> answer(const MetricsRoutes& routes,
                                           const bhttp::request<bhttp::string_body>& request) {
    bhttp::response<bhttp::string_body> response{bhttp::status::ok, request.version()};
    response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    const auto target = std::string(request.target());
    const auto path = target.substr(0, target.find('?'));
    if (request.method() != bhttp::verb::get) {
        response.result(bhttp::status::method_not_allowed);
        response.body() = "only GET is served here\n";
    } else if (path == "/metrics") {
        response.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        response.body() = routes.metrics();
    } else if (path == "/healthz") {
        const auto problem = routes.health();
        response.result(problem.empty() ? bhttp::status::ok : bhttp::status::service_unavailable);
        response.body() = problem.empty() ? "ok\n" : problem + "\n";
    } else {
        response.result(bhttp::status::not_found);
        response.body() = "not found; this listener serves /metrics and /healthz\n";
    }
    response.keep_alive(false);
    response.prepare_payload();
    return response;
}

}  // namespace

struct MetricsServer::State {
    State(asio::io_context& io, MetricsRoutes routes) : acceptor(io), routes(std::move(routes)) {}

    asio::awaitable<void> serve(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(4096);
        stream.expires_after(kTimeout);
        auto [read_error, read] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
        if (read_error) co_return;
        auto response = answer(routes, parser.get());
        stream.expires_after(kTimeout);
        co_await bhttp::async_write(stream, response, kNoThrow);
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    asio::awaitable<void> accept_loop() {
        while (acceptor.is_open()) {
            auto [error, socket] = co_await acceptor.async_accept(kNoThrow);
            if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            if (error) continue;
            asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
        }
    }

    tcp::acceptor acceptor;
    MetricsRoutes routes;
};

MetricsServer::MetricsServer(asio::io_context& io, MetricsRoutes routes)
    : state_(std::make_shared<State>(io, std::move(routes))) {}

MetricsServer::~MetricsServer() = default;

Result<tcp::endpoint> MetricsServer::start(const std::string& host, std::uint16_t port) {
    boost::system::error_code error;
    const auto address = asio::ip::make_address(host, error);
    if (error) {
        return Error{error, "metrics host '" + host + "' is not an IP address; use 127.0.0.1"};
    }
    const tcp::endpoint endpoint(address, port);
    auto& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        return Error{error, "cannot listen for /metrics on " + host + ":" + std::to_string(port) +
                                ": " + error.message() + "; choose another --metrics-addr"};
    }
    auto bound = acceptor.local_endpoint();
    asio::co_spawn(
        acceptor.get_executor(), [state = state_]() { return state->accept_loop(); },
        asio::detached);
    return bound;
}

// The acceptor belongs to the io_context's thread, so it is closed there.
void MetricsServer::stop() {
    asio::post(state_->acceptor.get_executor(), [state = state_] {
        boost::system::error_code ignored;
        state->acceptor.close(ignored);
    });
}

}  // namespace imgbus::cli
