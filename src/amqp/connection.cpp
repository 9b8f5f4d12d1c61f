// SPDX-License-Identifier: MIT
#include "connection.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "imgbus/amqp/frame.hpp"
#include "imgbus/dynload/libcrypto.hpp"
#include "imgbus/log.hpp"

namespace imgbus::amqp {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

const std::shared_ptr<spdlog::logger>& log() {
    static const auto logger = module_logger("amqp");
    return logger;
}

broker::FieldTable server_properties() {
    broker::FieldTable capabilities;
    for (const char* name :
         {"publisher_confirms", "basic.nack", "consumer_cancel_notify", "per_consumer_qos",
          "connection.blocked", "authentication_failure_close"}) {
        capabilities.set(name, broker::FieldValue(true));
    }
    capabilities.set("exchange_exchange_bindings", broker::FieldValue(false));
    broker::FieldTable properties;
    properties.set("product", broker::FieldValue(std::string("imgbus")));
    properties.set("version", broker::FieldValue(std::string("0.1.0")));
    properties.set("platform", broker::FieldValue(std::string("C++20 / Boost.Asio")));
    properties.set("capabilities", broker::FieldValue(std::move(capabilities)));
    return properties;
}

bool capability(const broker::FieldTable& client_properties, std::string_view name) {
    const auto* table = client_properties.find("capabilities");
    if (table == nullptr) {
        return false;
    }
    const auto* nested = std::get_if<broker::FieldTable>(&table->value);
    if (nested == nullptr) {
        return false;
    }
    const auto* flag = nested->find(name);
    return flag != nullptr && std::holds_alternative<bool>(flag->value) &&
           std::get<bool>(flag->value);
}

bool equal_secret(const std::string& given, const std::string& expected) {
    return given.size() == expected.size() &&
           dynload::libcrypto().CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// Splits a PLAIN response, "authzid \0 authcid \0 password", into user and password.
std::optional<std::pair<std::string, std::string>> parse_plain(const std::string& response) {
    const auto first = response.find('\0');
    if (first == std::string::npos) {
        return std::nullopt;
    }
    const auto second = response.find('\0', first + 1);
    if (second == std::string::npos) {
        return std::nullopt;
    }
    return std::pair{response.substr(first + 1, second - first - 1), response.substr(second + 1)};
}

}  // namespace

Connection::Connection(tcp::socket socket, broker::Broker& broker, const ServerOptions& options,
                       const PublishHold& hold, std::uint64_t id)
    : socket_(std::move(socket)),
      strand_(asio::make_strand(socket_.get_executor())),
      broker_(broker),
      options_(options),
      hold_(hold),
      id_(id),
      owner_(fmt::format("amqp-connection-{}", id)),
      stats_(id, owner_),
      read_buffer_(kReadChunk),
      batch_timer_(strand_),
      write_signal_(strand_),
      read_signal_(strand_),
      close_timer_(strand_) {
    boost::system::error_code ignored;
    const auto remote = socket_.remote_endpoint(ignored);
    peer_ = ignored ? "unknown peer"
                    : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    const auto local = socket_.local_endpoint(ignored);
    stats_.set_endpoints(remote.address().to_string(), remote.port(), local.address().to_string(),
                         local.port());
    socket_.set_option(tcp::no_delay(true), ignored);
}

void Connection::start(std::function<void()> on_end) {
    on_end_ = std::move(on_end);
    last_read_ = last_write_ = std::chrono::steady_clock::now();
    auto self = shared_from_this();
    auto report = [self](std::exception_ptr error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log()->error("connection {} ({}): {}", self->id_, self->peer_, e.what());
        }
        self->close_socket();
    };
    asio::co_spawn(strand_, run_reader(), report);
    asio::co_spawn(strand_, run_writer(), report);
    asio::co_spawn(strand_, run_heartbeat(), report);
}

void Connection::shut_down(std::string reason) {
    asio::post(strand_, [self = shared_from_this(), reason = std::move(reason)] {
        if (self->state_ == State::closing || self->state_ == State::closed) {
            return;
        }
        self->close_connection(make_error(Errc::connection_forced, reason), {});
    });
}

// Makes at least `bytes` unparsed bytes available in read_buffer_; false at end of stream.
awaitable<bool> Connection::fill(std::size_t bytes) {
    if (read_end_ - read_begin_ >= bytes) {
        co_return true;
    }
    if (read_begin_ > 0) {
        std::copy(read_buffer_.begin() + read_begin_, read_buffer_.begin() + read_end_,
                  read_buffer_.begin());
        read_end_ -= read_begin_;
        read_begin_ = 0;
    }
    if (read_buffer_.size() < bytes) {
        read_buffer_.resize(bytes);
    }
    update_batching();
    while (read_end_ < bytes) {
        if (batching_) {
            co_await wait_for_batch();
        }
        boost::system::error_code error;
        const auto got = co_await socket_.async_read_some(
            asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_),
            asio::redirect_error(use_awaitable, error));
        if (error) {
            co_return false;
        }
        read_end_ += got;
        bump(stats_.recv_oct, got);
        bump(stats_.recv_cnt);
        last_read_ = std::chrono::steady_clock::now();
    }
    co_return true;
}

bool Connection::reading_paused() const {
    if (parked_ || write_buffer_.size() >= options_.write_pause_bytes) {
        return true;
    }
    for (const auto& [number, channel] : channels_) {
        if (channel.unconfirmed >= options_.max_unconfirmed_per_channel) {
            return true;
        }
    }
    return false;
}

awaitable<void> Connection::wait_until_readable() {
    while (state_ != State::closed && (reading_paused() || (blocked_ && state_ == State::open))) {
        read_signal_.expires_at(std::chrono::steady_clock::time_point::max());
        boost::system::error_code ignored;
        co_await read_signal_.async_wait(asio::redirect_error(use_awaitable, ignored));
        // A paused reader must not be taken for a dead peer.
        last_read_ = std::chrono::steady_clock::now();
    }
}

awaitable<void> Connection::run_reader() {
    if (!co_await fill(kProtocolHeader.size())) {
        close_socket();
        co_return;
    }
    std::array<std::uint8_t, 8> header{};
    std::copy_n(read_buffer_.begin(), header.size(), header.begin());
    read_begin_ += header.size();
    if (auto checked = check_protocol_header(header); !checked) {
        log()->warn("connection {} ({}): {}", id_, peer_, checked.error().message);
        write_buffer_.assign(kProtocolHeader.begin(), kProtocolHeader.end());
        state_ = State::closing;
        close_when_flushed_ = true;
        wake(write_signal_);
        co_return;
    }
    send_start();

    while (state_ != State::closed) {
        // The awaits below are skipped when they would not wait: each one costs a coroutine
        // frame, and a read of 64 KiB holds dozens of frames.
        if (reading_paused() || (blocked_ && state_ == State::open)) {
            co_await wait_until_readable();
        }
        if (!has_bytes(kFrameHeaderBytes) && !co_await fill(kFrameHeaderBytes)) {
            break;
        }
        auto frame = decode_frame_header(std::span<const std::uint8_t, kFrameHeaderBytes>(
                                             read_buffer_.data() + read_begin_, kFrameHeaderBytes),
                                         frame_max_);
        if (!frame) {
            close_connection(frame.error(), {});
            break;
        }
        const std::size_t total = kFrameOverheadBytes + frame->payload_size;
        if (!has_bytes(total) && !co_await fill(total)) {
            break;
        }
        const auto* start = read_buffer_.data() + read_begin_;
        read_begin_ += total;
        if (auto end = check_frame_end(start[total - 1]); !end) {
            close_connection(end.error(), {});
            break;
        }
        auto handled = handle_frame(frame->type, frame->channel,
                                    {start + kFrameHeaderBytes, frame->payload_size});
        if (!handled) {
            close_connection(handled.error(), {});
        }
    }
    // Keep reading in closing state only to let close-ok arrive; the writer and close timer end
    // the connection. Here the peer is gone or sent garbage after close.
    if (state_ != State::closing) {
        close_socket();
    }
}

awaitable<void> Connection::run_writer() {
    std::string writing;
    while (state_ != State::closed) {
        if (write_buffer_.empty()) {
            if (close_when_flushed_) {
                close_socket();  // the last frame (close-ok) is out
                break;
            }
            writer_waiting_ = true;
            write_signal_.expires_at(std::chrono::steady_clock::time_point::max());
            boost::system::error_code ignored;
            co_await write_signal_.async_wait(asio::redirect_error(use_awaitable, ignored));
            writer_waiting_ = false;
            continue;
        }
        writing.swap(write_buffer_);
        boost::system::error_code error;
        co_await asio::async_write(socket_, asio::buffer(writing),
                                   asio::redirect_error(use_awaitable, error));
        const auto written = writing.size();
        writing.clear();
        if (error) {
            close_socket();
            break;
        }
        bump(stats_.send_oct, written);
        bump(stats_.send_cnt);
        last_write_ = std::chrono::steady_clock::now();
        wake(read_signal_);
    }
}

awaitable<void> Connection::run_heartbeat() {
    asio::steady_timer timer(strand_);
    const auto handshake_deadline = std::chrono::steady_clock::now() + options_.handshake_timeout;
    while (state_ != State::closed) {
        const auto interval = heartbeat_seconds_ == 0
                                  ? std::chrono::milliseconds(500)
                                  : std::chrono::milliseconds(heartbeat_seconds_ * 500);
        timer.expires_after(interval);
        boost::system::error_code ignored;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
        const auto now = std::chrono::steady_clock::now();
        if (state_ != State::open && state_ != State::closing && state_ != State::closed &&
            now > handshake_deadline) {
            log()->warn("connection {} ({}): handshake not finished within {} s; closing", id_,
                        peer_, options_.handshake_timeout.count());
            close_socket();
            break;
        }
        if (heartbeat_seconds_ == 0 || state_ != State::open) {
            continue;
        }
        if (now - last_read_ > std::chrono::seconds(2 * heartbeat_seconds_)) {
            log()->warn("connection {} ({}): missed heartbeats from client, timeout {} s", id_,
                        peer_, 2 * heartbeat_seconds_);
            close_socket();
            break;
        }
        if (now - last_write_ >= interval && write_buffer_.empty()) {
            append_heartbeat(write_buffer_);
            wake(write_signal_);
        }
    }
}

void Connection::wake(asio::steady_timer& timer) { timer.cancel(); }

void Connection::send_method(std::uint16_t channel, const Method& method) {
    append_method_frame(write_buffer_, channel, method);
    if (writer_waiting_) {
        wake(write_signal_);
    }
}

void Connection::send_start() {
    ConnectionStart start;
    start.server_properties = server_properties();
    send_method(0, start);
}

Result<void> Connection::handle_frame(FrameType type, std::uint16_t channel,
                                      std::span<const std::uint8_t> payload) {
    if (type == FrameType::heartbeat) {
        return {};
    }
    if (type == FrameType::method) {
        ++methods_read_;
    }
    if (state_ == State::closing) {
        // After connection.close only close and close-ok count; everything else is dropped.
        if (type != FrameType::method || channel != 0) {
            return {};
        }
        auto method = decode_method(payload);
        if (method && std::holds_alternative<ConnectionCloseOk>(*method)) {
            close_socket();
        } else if (method && std::holds_alternative<ConnectionClose>(*method)) {
            send_method(0, ConnectionCloseOk{});
            close_when_flushed_ = true;
        }
        return {};
    }
    if (channel == 0) {
        if (type != FrameType::method) {
            return make_error(Errc::command_invalid,
                              "content frame on channel 0; content belongs on a channel");
        }
        MethodId id;
        auto method = decode_method(payload, &id);
        if (!method) {
            close_connection(method.error(), id);
            return {};
        }
        if (auto handled = handle_connection_method(*method); !handled) {
            close_connection(handled.error(), method_id_of(*method));
        }
        return {};
    }
    if (state_ != State::open) {
        return make_error(Errc::command_invalid,
                          fmt::format("frame on channel {} before connection.open-ok", channel));
    }
    return handle_channel_frame(channel, type, payload);
}

Result<void> Connection::handle_connection_method(Method& method) {
    if (auto* start_ok = std::get_if<ConnectionStartOk>(&method);
        start_ok && state_ == State::start_ok) {
        return handle_start_ok(*start_ok);
    }
    if (auto* tune_ok = std::get_if<ConnectionTuneOk>(&method);
        tune_ok && state_ == State::tune_ok) {
        return handle_tune_ok(*tune_ok);
    }
    if (auto* open = std::get_if<ConnectionOpen>(&method); open && state_ == State::open_wait) {
        return handle_open(*open);
    }
    if (std::holds_alternative<ConnectionClose>(method)) {
        const auto& close = std::get<ConnectionClose>(method);
        log()->info("connection {} ({}): closed by client: {} {}", id_, peer_, close.reply_code,
                    close.reply_text);
        send_method(0, ConnectionCloseOk{});
        state_ = State::closing;
        close_when_flushed_ = true;
        release_broker_state();
        return {};
    }
    if (std::holds_alternative<ConnectionCloseOk>(method)) {
        close_socket();
        return {};
    }
    if (std::holds_alternative<ConnectionBlocked>(method) ||
        std::holds_alternative<ConnectionUnblocked>(method)) {
        return {};  // a client may tell us it is blocked; nothing to do
    }
    return make_error(Errc::command_invalid,
                      fmt::format("{} is not valid on channel 0 in this state of the handshake",
                                  method_name(method)));
}

Result<void> Connection::handle_start_ok(ConnectionStartOk& start_ok) {
    client_wants_blocked_ = capability(start_ok.client_properties, "connection.blocked");
    client_wants_auth_failure_close_ =
        capability(start_ok.client_properties, "authentication_failure_close");
    client_wants_cancel_notify_ = capability(start_ok.client_properties, "consumer_cancel_notify");
    if (start_ok.mechanism != "PLAIN") {
        return make_error(Errc::command_invalid,
                          fmt::format("unknown authentication mechanism '{}'; imgbus offers PLAIN",
                                      start_ok.mechanism));
    }
    const auto credentials = parse_plain(start_ok.response);
    const bool accepted = credentials && equal_secret(credentials->first, options_.username) &&
                          equal_secret(credentials->second, options_.password);
    if (!accepted) {
        log()->warn("connection {} ({}): login refused for user '{}'", id_, peer_,
                    credentials ? credentials->first : std::string("(malformed PLAIN response)"));
        if (!client_wants_auth_failure_close_) {
            close_socket();
            return {};
        }
        return make_error(Errc::access_refused,
                          "Login was refused using authentication mechanism PLAIN. For details "
                          "see the broker logfile.");
    }
    stats_.set_login(credentials->first, start_ok.mechanism, start_ok.client_properties);
    state_ = State::tune_ok;
    send_method(0, ConnectionTune{.channel_max = options_.channel_max,
                                  .frame_max = options_.frame_max_bytes,
                                  .heartbeat = options_.heartbeat_seconds});
    return {};
}

Result<void> Connection::handle_tune_ok(const ConnectionTuneOk& tune_ok) {
    if (tune_ok.frame_max != 0 &&
        (tune_ok.frame_max < kMinFrameMax || tune_ok.frame_max > options_.frame_max_bytes)) {
        return make_error(Errc::not_allowed,
                          fmt::format("frame_max={} outside the range {} to {} bytes",
                                      tune_ok.frame_max, kMinFrameMax, options_.frame_max_bytes));
    }
    if (tune_ok.channel_max > options_.channel_max) {
        return make_error(Errc::not_allowed,
                          fmt::format("channel_max={} exceeds the server's {}", tune_ok.channel_max,
                                      options_.channel_max));
    }
    frame_max_ = tune_ok.frame_max == 0 ? options_.frame_max_bytes : tune_ok.frame_max;
    channel_max_ = tune_ok.channel_max == 0 ? options_.channel_max : tune_ok.channel_max;
    heartbeat_seconds_ = tune_ok.heartbeat;
    stats_.set_tuning(heartbeat_seconds_, frame_max_, channel_max_);
    state_ = State::open_wait;
    return {};
}

Result<void> Connection::handle_open(const ConnectionOpen& open) {
    if (open.virtual_host != "/") {
        return make_error(
            Errc::not_allowed,
            fmt::format("vhost '{}' not found; imgbus has only the vhost '/'", open.virtual_host));
    }
    state_ = State::open;
    stats_.set_vhost(open.virtual_host);
    send_method(0, ConnectionOpenOk{});
    std::weak_ptr<Connection> weak = shared_from_this();
    blocked_listener_ = broker_.add_blocked_listener([weak](bool blocked) {
        if (auto self = weak.lock()) {
            self->push_event(BlockedEvent{blocked});
        }
    });
    log()->info("connection {} ({}): open, frame_max {}, channel_max {}, heartbeat {} s", id_,
                peer_, frame_max_, channel_max_, heartbeat_seconds_);
    return {};
}

void Connection::close_connection(const Error& error, MethodId failing) {
    if (state_ == State::closing || state_ == State::closed) {
        return;
    }
    const auto code = static_cast<Errc>(error.code.value());
    const bool amqp_code = error.code.category() == amqp_category();
    const auto reply = amqp_code ? code : Errc::internal_error;
    log()->warn("connection {} ({}): closing with {} {}: {}", id_, peer_, static_cast<int>(reply),
                reply_name(reply), error.message);
    send_method(
        0, ConnectionClose{.reply_code = static_cast<std::uint16_t>(reply),
                           .reply_text = fmt::format("{} - {}", reply_name(reply), error.message),
                           .failing_class_id = failing.class_id,
                           .failing_method_id = failing.method_id});
    state_ = State::closing;
    release_broker_state();
    close_timer_.expires_after(options_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
        if (!error) {
            self->close_socket();
        }
    });
}

// Releases what this connection owns in the broker: consumers are cancelled and
// unacked messages requeued (via the sessions), exclusive queues deleted.
void Connection::release_broker_state() {
    for (auto& [number, channel] : channels_) {
        release_channel(channel);
    }
    channels_.clear();
    stats_.close_all_channels();
    stats_.set_state("closing");
    if (blocked_listener_ != 0) {
        broker_.remove_blocked_listener(blocked_listener_);
        blocked_listener_ = 0;
    }
    broker_.release_owner(owner_);
}

void Connection::close_socket() {
    if (state_ == State::closed) {
        return;
    }
    release_broker_state();
    state_ = State::closed;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    close_timer_.cancel();
    batch_timer_.cancel();
    wake(write_signal_);
    wake(read_signal_);
    log()->debug("connection {} ({}): socket closed", id_, peer_);
    if (on_end_) {
        auto on_end = std::move(on_end_);
        on_end_ = nullptr;
        on_end();
    }
}

void Connection::push_event(Event&& event) {
    bool post = false;
    {
        std::lock_guard lock(inbox_mutex_);
        inbox_.push_back(std::move(event));
        post = !drain_posted_;
        drain_posted_ = true;
    }
    if (post) {
        asio::post(strand_, [self = shared_from_this()] { self->drain_events(); });
    }
}

void Connection::drain_events() {
    {
        std::lock_guard lock(inbox_mutex_);
        draining_.swap(inbox_);
        drain_posted_ = false;
    }
    if (state_ != State::open) {
        draining_.clear();
        return;  // the broker state is released; unacked deliveries were requeued
    }
    for (auto& event : draining_) {
        handle_event(event);
    }
    draining_.clear();
    if (write_buffer_.size() > options_.max_write_buffer_bytes) {
        log()->warn("connection {} ({}): {} bytes wait for a client that does not read; closing",
                    id_, peer_, write_buffer_.size());
        close_socket();
    }
}

}  // namespace imgbus::amqp
