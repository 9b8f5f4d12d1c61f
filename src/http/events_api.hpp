// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

#include "job_tracker.hpp"
#include "response.hpp"

namespace imgbus::http {

struct EventStreamOptions {
    std::chrono::seconds keep_alive{15};   // a comment line after this much silence
    std::size_t max_queued_events = 1024;  // a client further behind is disconnected
    std::chrono::seconds write_timeout{30};
};

// Called with a function that ends the stream. The server calls that function on stop().
using StreamCloserSink = std::function<void(std::function<void()>)>;

// Serves GET /api/events on an accepted connection until the client leaves, falls too far behind
// or the server stops: a text/event-stream of `job` events, filtered by `?batch=`.
boost::asio::awaitable<void> stream_events(boost::beast::tcp_stream& stream, const Request& request,
                                           JobTracker& tracker, StreamCloserSink set_closer,
                                           std::uint64_t connection,
                                           EventStreamOptions options = {});

}  // namespace imgbus::http
