// SPDX-License-Identifier: MIT
#include "imgbus/amqp/server.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>

#include "connection.hpp"
#include "imgbus/log.hpp"

namespace imgbus::amqp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Shared with the accept loop and the connections' end callbacks, so that it outlives a Server
// destroyed while connections still finish on the io_context.
struct Server::State {
    State(asio::io_context& io, broker::Broker& broker, ServerOptions options)
        : io(io), broker(broker), options(std::move(options)), acceptor(io) {}

    asio::io_context& io;
    broker::Broker& broker;
    const ServerOptions options;
    tcp::acceptor acceptor;
    bool stopping = false;

    mutable std::mutex mutex;
    std::map<std::uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mutex
    std::uint64_t next_id = 1;                                       // guarded by mutex
};

namespace {

const std::shared_ptr<spdlog::logger>& log() {
    static const auto logger = module_logger("amqp");
    return logger;
}

asio::awaitable<void> accept_loop(std::shared_ptr<Server::State> state) {
    for (;;) {
        boost::system::error_code error;
        tcp::socket socket = co_await state->acceptor.async_accept(
            asio::make_strand(state->io), asio::redirect_error(asio::use_awaitable, error));
        if (error == asio::error::operation_aborted || state->stopping) {
            co_return;
        }
        if (error) {
            log()->warn("accept failed: {}", error.message());
            continue;
        }
        std::unique_lock lock(state->mutex);
        if (state->connections.size() >= state->options.max_connections) {
            lock.unlock();
            log()->warn("refusing a connection: {} connections open, the maximum",
                        state->options.max_connections);
            continue;  // the socket closes as it goes out of scope
        }
        const auto id = state->next_id++;
        auto connection =
            std::make_shared<Connection>(std::move(socket), state->broker, state->options, id);
        state->connections.emplace(id, connection);
        lock.unlock();
        connection->start([state, id] {
            std::lock_guard guard(state->mutex);
            state->connections.erase(id);
        });
    }
}

}  // namespace

Server::Server(asio::io_context& io, broker::Broker& broker, ServerOptions options)
    : state_(std::make_shared<State>(io, broker, std::move(options))) {}

Server::~Server() { stop(); }

Result<tcp::endpoint> Server::start() {
    const auto& options = state_->options;
    boost::system::error_code error;
    const auto address = asio::ip::make_address(options.host, error);
    if (error) {
        return Error{error, fmt::format("invalid AMQP listen address '{}': {}; use an IP address "
                                        "such as 127.0.0.1",
                                        options.host, error.message())};
    }
    const tcp::endpoint endpoint(address, options.port);
    auto& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol(), error);
    if (!error) {
        acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    }
    if (!error) {
        acceptor.bind(endpoint, error);
    }
    if (!error) {
        acceptor.listen(asio::socket_base::max_listen_connections, error);
    }
    if (error) {
        return Error{error, fmt::format("cannot listen for AMQP on {}:{}: {}; choose another "
                                        "port with --amqp HOST:PORT",
                                        options.host, options.port, error.message())};
    }
    asio::co_spawn(state_->io, accept_loop(state_), asio::detached);
    return acceptor.local_endpoint();
}

void Server::stop() {
    if (state_->stopping) {
        return;
    }
    state_->stopping = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    std::vector<std::shared_ptr<Connection>> open;
    {
        std::lock_guard lock(state_->mutex);
        for (auto& [id, weak] : state_->connections) {
            if (auto connection = weak.lock()) {
                open.push_back(std::move(connection));
            }
        }
    }
    for (auto& connection : open) {
        connection->shut_down("broker shutting down");
    }
}

std::size_t Server::connection_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->connections.size();
}

}  // namespace imgbus::amqp
