// SPDX-License-Identifier: MIT
#include "imgbus/s3/server.hpp"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <map>
#include <mutex>
#include <random>

#include "exchange.hpp"
#include "handlers.hpp"
#include "imgbus/log.hpp"
#include "imgbus/s3/error.hpp"

namespace imgbus::s3 {
namespace asio = boost::asio;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

Error header_error(const boost::system::error_code& error) {
    if (error == http::error::header_limit) {
        return make_error(Errc::invalid_request, "the request header is larger than allowed");
    }
    if (error == beast::error::timeout) {
        return make_error(Errc::request_timeout, "the request header did not arrive in time");
    }
    return make_error(Errc::invalid_request,
                      "the request is not valid HTTP/1.1: " + error.message());
}

bool is_disconnect(const boost::system::error_code& error) {
    return error == http::error::end_of_stream || error == asio::error::eof ||
           error == asio::error::connection_reset || error == asio::error::operation_aborted;
}

}  // namespace

// Connections are tracked so that stop() can close them: each entry is the stream of a live
// session, removed by the session before the stream is destroyed. mutex_ guards the map.
struct Server::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& io, store::ObjectStore& store, metrics::Metrics* metrics,
         ServerOptions options)
        : io(io),
          options(std::move(options)),
          multipart(this->options.multipart_dir),
          context{store, metrics, this->options, multipart, blocking},
          acceptor(io) {}

    awaitable<void> accept_loop();
    awaitable<void> run_session(tcp::socket socket, std::uint64_t id);
    std::string next_request_id();

    asio::io_context& io;
    ServerOptions options;
    MultipartStore multipart;
    asio::thread_pool blocking{2};
    HandlerContext context;
    tcp::acceptor acceptor;
    std::shared_ptr<spdlog::logger> log = module_logger("s3");
    std::atomic<std::uint64_t> next_id{0};
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopped{false};
    std::mutex mutex;
    std::map<std::uint64_t, beast::tcp_stream*> streams;
    const std::string id_prefix =
        fmt::format("{:08X}", static_cast<unsigned>(std::random_device{}()));
};

std::string Server::Impl::next_request_id() {
    return fmt::format("{}{:08X}", id_prefix, next_id.fetch_add(1) & 0xFFFFFFFFu);
}

awaitable<void> Server::Impl::accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
        auto [error, socket] = co_await acceptor.async_accept(asio::make_strand(io), kNoThrow);
        if (error) {
            if (stopped || error == asio::error::operation_aborted) co_return;
            log->warn("s3 accept failed: {}", error.message());
            continue;
        }
        if (connections.load() >= options.max_connections) {
            log->warn("s3 connection limit of {} reached; closing a new connection",
                      options.max_connections);
            continue;
        }
        const auto id = next_id.fetch_add(1);
        auto executor = socket.get_executor();
        asio::co_spawn(executor, run_session(std::move(socket), id),
                       [self, id](std::exception_ptr failure) {
                           if (!failure) return;
                           try {
                               std::rethrow_exception(failure);
                           } catch (const std::exception& e) {
                               self->log->error("s3 connection {} failed: {}", id, e.what());
                           }
                       });
    }
}

awaitable<void> Server::Impl::run_session(tcp::socket socket, std::uint64_t id) {
    auto self = shared_from_this();
    ++connections;
    beast::tcp_stream stream(std::move(socket));
    {
        std::lock_guard lock(mutex);
        streams[id] = &stream;
    }
    beast::flat_buffer buffer;
    while (!stopped) {
        RequestParser parser;
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        parser.body_limit(boost::none);  // the handlers check sizes against their own limits
        stream.expires_after(options.read_timeout);
        auto [error, ignored] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
        Exchange exchange(stream, buffer, parser, options, next_request_id());
        if (error) {
            if (!is_disconnect(error) && error != beast::error::timeout) {
                co_await exchange.send_error(header_error(error));
            }
            break;
        }
        if (auto loaded = exchange.load_request(); !loaded) {
            co_await exchange.send_error(loaded.error());
            break;
        }
        co_await handle_request(context, exchange);
        log->debug("s3 connection {} request {}: {} {} -> {}", id, exchange.request_id,
                   exchange.method, exchange.raw_path.substr(0, 200), exchange.status);
        if (!exchange.keep_alive) break;
    }
    {
        std::lock_guard lock(mutex);
        streams.erase(id);
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
    --connections;
}

Server::Server(asio::io_context& io, store::ObjectStore& store, metrics::Metrics* metrics,
               ServerOptions options)
    : impl_(std::make_shared<Impl>(io, store, metrics, std::move(options))) {}

Server::~Server() {
    stop();
    impl_->blocking.join();
}

Result<tcp::endpoint> Server::start() {
    auto& impl = *impl_;
    if (impl.options.credentials.access_key.empty() ||
        impl.options.credentials.secret_key.empty()) {
        return make_error(Errc::invalid_argument,
                          "the S3 server needs an access key and a secret key");
    }
    boost::system::error_code error;
    const auto address = asio::ip::make_address(impl.options.host, error);
    if (error) {
        return make_error(Errc::invalid_argument,
                          fmt::format("'{}' is not an IP address; give the S3 listener an address "
                                      "such as 127.0.0.1",
                                      impl.options.host));
    }
    const tcp::endpoint endpoint(address, impl.options.port);
    impl.acceptor.open(endpoint.protocol(), error);
    if (!error) impl.acceptor.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) impl.acceptor.bind(endpoint, error);
    if (!error) impl.acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        return make_error(Errc::internal_error,
                          fmt::format("cannot listen on {}:{} for S3: {}; choose another address "
                                      "with --s3",
                                      impl.options.host, impl.options.port, error.message()));
    }
    asio::co_spawn(impl.acceptor.get_executor(), impl.accept_loop(), asio::detached);
    return impl.acceptor.local_endpoint();
}

void Server::stop() {
    auto& impl = *impl_;
    if (impl.stopped.exchange(true)) return;
    asio::post(impl.acceptor.get_executor(), [self = impl_] {
        beast::error_code ignored;
        self->acceptor.close(ignored);
    });
    std::lock_guard lock(impl.mutex);
    for (auto& [id, stream] : impl.streams) {
        asio::post(stream->get_executor(), [self = impl_, id = id] {
            std::lock_guard inner(self->mutex);
            if (auto found = self->streams.find(id); found != self->streams.end()) {
                found->second->cancel();
            }
        });
    }
}

}  // namespace imgbus::s3
