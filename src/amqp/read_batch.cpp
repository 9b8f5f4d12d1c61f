// SPDX-License-Identifier: MIT
// Reads of a publish stream in batches. A client that streams publishes without waiting for
// replies sends one TCP segment per message. Reading each segment as it arrives costs a wake-up
// of the reader, a receive call and an ACK, and on loopback the sender's core pays for most of
// it. While a connection streams publishes, the reader sets SO_RCVLOWAT so that the kernel
// reports the socket readable only once publish_batch_bytes are buffered. A timer lowers the
// mark again after publish_batch_wait, so the end of a burst waits at most that long. Any other
// method read (a request, an ack) or a channel in confirm mode ends batching at the next read.
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "connection.hpp"

namespace imgbus::amqp {

namespace asio = boost::asio;

// Called before each read, once every complete frame in the buffer is handled.
void Connection::update_batching() {
    batching_ = options_.publish_batch_bytes > 0 && state_ == State::open && publishes_read_ >= 2 &&
                methods_read_ == publishes_read_ && !confirming();
    methods_read_ = 0;
    publishes_read_ = 0;
    if (!batching_ && low_water_ != 1) {
        set_low_water(1);
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
    if (low_water_ != options_.publish_batch_bytes) {
        set_low_water(options_.publish_batch_bytes);
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
