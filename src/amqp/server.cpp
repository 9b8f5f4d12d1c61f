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
    PublishHold hold;

    mutable std::mutex mutex;
    std::map<std::uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mutex
    std::uint64_t next_id = 1;                                       // guarded by mutex
};

namespace {

const std::shared_ptr<spdlog::logger>& log() {
    static const auto logger = module_logger("amqp");
    return logger;
}

std::vector<std::shared_ptr<Connection>> open_connections(Server::State& state) {
    std::vector<std::shared_ptr<Connection>> open;
    std::lock_guard lock(state.mutex);
    for (const auto& [id, weak] : state.connections) {
        if (auto connection = weak.lock()) {
            open.push_back(std::move(connection));
        }
    }
    return open;
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
        auto connection = std::make_shared<Connection>(std::move(socket), state->broker,
                                                       state->options, state->hold, id);
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
    for (auto& connection : open_connections(*state_)) {
        connection->shut_down("broker shutting down");
    }
}

std::size_t Server::connection_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->connections.size();
}

void Server::hold_publishes(std::string queue, std::string reason) {
    log()->warn("holding AMQP publishes to '{}': {}", queue, reason);
    state_->hold.hold(std::move(queue), std::move(reason));
}

void Server::release_publishes() {
    if (!state_->hold.active()) {
        return;
    }
    state_->hold.release();
    log()->warn("releasing held AMQP publishes");
    for (auto& connection : open_connections(*state_)) {
        connection->release_hold();
    }
}

std::vector<broker::ConnectionInfo> Server::connections() const {
    const auto open = open_connections(*state_);
    std::vector<broker::ConnectionInfo> all;
    all.reserve(open.size());
    for (const auto& connection : open) {
        all.push_back(connection->snapshot());
    }
    return all;
}

}  // namespace imgbus::amqp
