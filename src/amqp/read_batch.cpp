// SPDX-License-Identifier: MIT
// Reads of a publish or ack stream in batches. A client that streams publishes without waiting
// for replies sends one TCP segment per message, and a consumer that acks each delivery sends
// one segment per ack. Reading each segment as it arrives costs a wake-up of the reader, a
// receive call and an ACK, and on loopback the sender's core pays for most of it. While a
// connection streams publishes or single acks, the reader sets SO_RCVLOWAT so that the kernel
// reports the socket readable only once a batch is buffered. A timer lowers the mark again after
// publish_batch_wait, so the end of a stream waits at most that long. A read that contains any
// other method (a request, a nack, an ack of several tags) ends batching at the next read. A
// channel in confirm mode also ends the batching of publishes.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "connection.hpp"

namespace imgbus::amqp {

namespace asio = boost::asio;

namespace {

// A basic.ack on the wire: frame header (7), class and method (4), delivery tag (8), the
// multiple flag (1) and the frame end (1).
constexpr int kAckFrameBytes = 21;

}  // namespace

// Chooses the receive mark for the next read, once every complete frame in the buffer is handled.
void Connection::update_batching() {
    batch_bytes_ = 1;
    if (state_ == State::open && methods_read_ >= 2) {
        if (publishes_read_ == methods_read_ && !confirming()) {
            batch_bytes_ = std::max(options_.publish_batch_bytes, 1);
        } else if (acks_read_ == methods_read_) {
            batch_bytes_ = ack_batch_bytes();
        }
    }
    batching_ = batch_bytes_ > 1;
    methods_read_ = 0;
    publishes_read_ = 0;
    acks_read_ = 0;
    if (!batching_ && low_water_ != 1) {
        set_low_water(1);
    }
}

// Returns the mark for an ack stream: the bytes of a quarter of the smallest consumer window in
// acks. While the reader waits, a client that acks each delivery in order still has three
// quarters of a full window to work on and ack, so the mark is reached before it runs dry. Acks
// without a consumer on the connection (of basic.get) are not batched.
int Connection::ack_batch_bytes() const {
    std::uint32_t window = 0;
    for (const auto& [number, channel] : channels_) {
        if (!channel.consumers.empty() && (window == 0 || channel.consumer_window < window)) {
            window = channel.consumer_window;
        }
    }
    const auto acks = std::min<std::size_t>(options_.ack_batch_max, window / 4);
    return acks >= 2 ? static_cast<int>(acks) * kAckFrameBytes : 1;
}

// Lowers the channel's consumer window to `prefetch` (0: no limit).
void Connection::note_window(Channel& channel, std::uint16_t prefetch) {
    const std::uint32_t window =
        prefetch == 0 ? std::numeric_limits<std::uint32_t>::max() : prefetch;
    if (channel.consumer_window == 0 || window < channel.consumer_window) {
        channel.consumer_window = window;
    }
}

// A publisher in confirm mode waits for its confirms, so holding its publishes back would only
// delay them.
bool Connection::confirming() const {
    for (const auto& [number, channel] : channels_) {
        if (channel.confirm_mode) {
            return true;
        }
    }
    return false;
}

void Connection::set_low_water(int bytes) {
    // Lowering the mark makes the kernel report the socket readable at once if bytes wait.
    if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) == 0) {
        low_water_ = bytes;
    }
}

asio::awaitable<void> Connection::wait_for_batch() {
    if (low_water_ != batch_bytes_) {
        set_low_water(batch_bytes_);
    }
    // Asio registers the socket with epoll edge-triggered, so a batch that is already buffered
    // would raise no new event. poll() applies the mark too, and it also reports an error or the
    // end of the stream.
    pollfd ready{.fd = socket_.native_handle(), .events = POLLIN, .revents = 0};
    if (low_water_ == 1 || ::poll(&ready, 1, 0) != 0) {
        co_return;
    }
    batch_timer_.expires_after(options_.publish_batch_wait);
    batch_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
        if (!error && self->state_ != State::closed) {
            self->set_low_water(1);
        }
    });
    boost::system::error_code ignored;
    co_await socket_.async_wait(asio::socket_base::wait_read,
                                asio::redirect_error(asio::use_awaitable, ignored));
    batch_timer_.cancel();
}

}  // namespace imgbus::amqp
