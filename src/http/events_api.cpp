// SPDX-License-Identifier: MIT
#include "events_api.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <mutex>

#include "imgbus/log.hpp"
#include "router.hpp"

namespace imgbus::http {
namespace {

namespace asio = boost::asio;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kHeader =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n\r\n"
    "retry: 3000\n\n";

// Events waiting for one client. The tracker's subscriber pushes from any thread; the stream's
// coroutine drains on its strand and sleeps on `wake` in between.
struct EventQueue {
    explicit EventQueue(asio::any_io_executor executor) : wake(executor) {}

    std::mutex mutex;
    std::deque<std::string> events;
    bool overflowed = false;
    bool closed = false;
    bool client_gone = false;
    asio::steady_timer wake;
};

void push(const std::shared_ptr<EventQueue>& queue, std::string event, std::size_t max) {
    {
        std::lock_guard lock(queue->mutex);
        if (queue->overflowed || queue->closed) return;
        if (queue->events.size() >= max) {
            queue->overflowed = true;
            queue->events.clear();
        } else {
            queue->events.push_back(std::move(event));
        }
    }
    asio::post(queue->wake.get_executor(), [queue] { queue->wake.cancel(); });
}

void close_queue(const std::shared_ptr<EventQueue>& queue) {
    {
        std::lock_guard lock(queue->mutex);
        queue->closed = true;
    }
    asio::post(queue->wake.get_executor(), [queue] { queue->wake.cancel(); });
}

// Ends the stream when a read completes: a stream client sends nothing after its request, so a
// finished read means that it closed the connection (or broke the protocol).
void watch_for_close(boost::beast::tcp_stream& stream, const std::shared_ptr<EventQueue>& queue) {
    auto scratch = std::make_shared<std::array<char, 256>>();
    auto on_read = [queue, scratch](boost::system::error_code error, std::size_t) {
        if (error == asio::error::operation_aborted) return;
        {
            std::lock_guard lock(queue->mutex);
            queue->client_gone = true;
        }
        queue->wake.cancel();
    };
    stream.socket().async_read_some(asio::buffer(*scratch), std::move(on_read));
}

}  // namespace

asio::awaitable<void> stream_events(boost::beast::tcp_stream& stream, const Request& request,
                                    JobTracker& tracker, StreamCloserSink set_closer,
                                    std::uint64_t connection, EventStreamOptions options) {
    auto log = module_logger("http");
    auto query = parse_query(request.target());
    std::string batch = query && query->contains("batch") ? query->at("batch") : std::string();

    auto queue = std::make_shared<EventQueue>(co_await asio::this_coro::executor);
    auto subscription =
        tracker.subscribe([queue, batch, max = options.max_queued_events](const JobRecord& job) {
            if (!batch.empty() && job.message.batch != batch) return;
            push(queue, "event: job\ndata: " + dump_json(job_json(job)) + "\n\n", max);
        });
    set_closer([queue] { close_queue(queue); });
    log->debug("conn {}: event stream opened (batch filter '{}')", connection, batch);

    // A client subscribes after its upload was answered, and a small job may finish before that,
    // so a batch stream starts with the batch's current state. A change racing this replay is
    // sent twice at worst, never lost, and the last event of each job is its latest state.
    if (!batch.empty()) {
        for (const auto& job : tracker.batch(batch)) {
            push(queue, "event: job\ndata: " + dump_json(job_json(job)) + "\n\n",
                 options.max_queued_events);
        }
    }

    stream.expires_after(options.write_timeout);
    auto [header_error, header_bytes] =
        co_await asio::async_write(stream, asio::buffer(kHeader), kNoThrow);
    std::string reason = header_error ? header_error.message() : "";
    if (reason.empty()) watch_for_close(stream, queue);
    while (reason.empty()) {
        bool pending = false;
        {
            std::lock_guard lock(queue->mutex);
            pending =
                !queue->events.empty() || queue->closed || queue->overflowed || queue->client_gone;
        }
        // A push posts its wake-up to this strand, so it cannot slip in between the check above
        // and the start of the wait.
        bool timed_out = false;
        if (!pending) {
            queue->wake.expires_after(options.keep_alive);
            auto [wait_error] = co_await queue->wake.async_wait(kNoThrow);
            timed_out = !wait_error;
        }

        std::deque<std::string> ready;
        {
            std::lock_guard lock(queue->mutex);
            if (queue->client_gone) reason = "client closed the connection";
            if (queue->closed) reason = "server stopping";
            if (queue->overflowed)
                reason = "client fell more than " + std::to_string(options.max_queued_events) +
                         " events behind";
            ready.swap(queue->events);
        }
        if (!reason.empty()) break;
        std::string out;
        for (auto& event : ready) out += event;
        if (out.empty() && timed_out) out = ": keep-alive\n\n";
        if (out.empty()) continue;

        stream.expires_after(options.write_timeout);
        auto [write_error, written] =
            co_await asio::async_write(stream, asio::buffer(out), kNoThrow);
        if (write_error) reason = write_error.message();
    }
    tracker.unsubscribe(subscription);
    boost::system::error_code ignored;
    stream.socket().cancel(ignored);
    log->debug("conn {}: event stream closed: {}", connection, reason);
}

}  // namespace imgbus::http
