// SPDX-License-Identifier: MIT
// The Frontend: acceptor, HTTP sessions and shutdown. Each connection runs as a coroutine on its
// own strand. GET and HEAD handlers run on that strand; the others, which write to the store,
// run on the blocking pool. A handler returns a whole response or one whose body is streamed.
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "blocking.hpp"
#include "context.hpp"
#include "events_api.hpp"
#include "imgbus/http/frontend.hpp"
#include "imgbus/log.hpp"
#include "job_retention.hpp"
#include "management.hpp"
#include "session_io.hpp"

namespace imgbus::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Multipart framing around the image: boundaries, part headers and small form fields.
constexpr std::uint64_t kMultipartSlackBytes = 256 * 1024;
constexpr std::uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr auto kWriteTimeout = std::chrono::seconds(60);
// Threads that run the handlers which write to the store (uploads, admin actions) and the job
// events, whose record writes fsync. Four, so that fsyncs of concurrent uploads overlap.
constexpr int kBlockingThreads = 4;

// A parse error of Beast's, as opposed to the peer leaving or a timeout.
bool is_malformed(const boost::system::error_code& error) {
    const auto& category = beast_http::make_error_code(beast_http::error::bad_method).category();
    return error.category() == category && error != beast_http::error::end_of_stream &&
           error != beast_http::error::partial_message;
}

}  // namespace

// Shared by the acceptor and every session, so that it outlives Frontend while coroutines still
// run on the io_context.
class Server : public std::enable_shared_from_this<Server> {
  public:
    Server(asio::io_context& io, broker::Broker& broker, store::ObjectStore& store,
           metrics::Metrics& metrics, FrontendOptions options)
        : context_{io, broker, store, metrics, std::move(options), nullptr, {}, {}},
          acceptor_(asio::make_strand(io)) {
        TrackerOptions tracker;
        tracker.bucket = context_.options.bucket;
        tracker.job_queue = context_.options.job_queue;
        tracker.event_queue = context_.options.event_queue;
        context_.tracker = std::make_shared<JobTracker>(broker, store, metrics, tracker);
        add_jobs_routes(router_, context_);
        add_info_routes(router_, context_);
        add_management_routes(router_, context_);
        add_client_routes(router_, context_);
        add_admin_routes(router_, context_);
        add_benchmark_routes(router_, context_);
        add_asset_routes(router_);
        router_.add_stream(beast_http::verb::get, "/api/events");
    }

    Result<tcp::endpoint> start();
    void stop();
    FrontendContext& context() { return context_; }

  private:
    struct Slot {
        asio::any_io_executor executor;
        std::function<void()> close;
        bool events = false;
    };

    Result<void> prepare_services();
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> republish_loop();
    asio::awaitable<void> run_session(tcp::socket socket, std::uint64_t id);
    asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                    std::uint64_t id);
    Reply handle(const Request& request, const Router::Match& match, std::uint64_t id);
    asio::awaitable<Reply> run_handler(const Request& request, const Router::Match& match,
                                       std::uint64_t id);
    asio::awaitable<boost::system::error_code> read_body(
        beast::tcp_stream& stream, beast::flat_buffer& buffer,
        beast_http::request_parser<beast_http::string_body>& parser);
    asio::awaitable<void> write_error(beast::tcp_stream& stream, Status status,
                                      std::string_view code, std::string message);
    void record(std::string_view route, std::string_view method, unsigned status, double seconds);
    void set_closer(std::uint64_t id, std::function<void()> close, bool events);
    void forget(std::uint64_t id);

    FrontendContext context_;
    asio::thread_pool blocking_{kBlockingThreads};
    Router router_;
    tcp::acceptor acceptor_;
    std::atomic<bool> stopped_{false};
    std::atomic<std::size_t> open_sessions_{0};
    // Event streams stay open for long, so they may use only a quarter of the connection limit;
    // the rest stays free for uploads, the API and health checks.
    std::atomic<std::size_t> open_streams_{0};
    std::uint64_t next_id_ = 1;  // used on the acceptor's strand only
    std::mutex slots_mutex_;
    std::map<std::uint64_t, Slot> slots_;
};

Result<void> Server::prepare_services() {
    auto& options = context_.options;
    if (auto bucket = context_.store.ensure_bucket(options.bucket); !bucket) return bucket.error();
    for (const auto& queue : {options.job_queue, options.event_queue}) {
        if (context_.broker.queue_stats(queue)) continue;
        if (auto declared = context_.broker.declare_queue(queue, {}); !declared) {
            return declared.error();
        }
    }
    if (auto recovered = context_.tracker->recover(); !recovered) return recovered.error();
    context_.retention =
        std::make_shared<RetentionSweeper>(context_.io, context_.tracker, options.job_retention);
    context_.retention->start();
    // Finished jobs write their records (an fsync each): on the blocking pool, in order.
    return context_.tracker->start_consuming(asio::make_strand(blocking_));
}

Result<tcp::endpoint> Server::start() {
    if (auto prepared = prepare_services(); !prepared) return prepared.error();

    boost::system::error_code error;
    auto address = asio::ip::make_address(context_.options.host, error);
    if (error) {
        return Error{error, "HTTP host '" + context_.options.host +
                                "' is not an IP address; use 127.0.0.1 or ::1"};
    }
    tcp::endpoint endpoint(address, context_.options.port);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        return Error{error, "cannot listen on " + context_.options.host + ":" +
                                std::to_string(context_.options.port) + ": " + error.message() +
                                "; choose another port with --http"};
    }
    auto bound = acceptor_.local_endpoint();
    start_management(context_);
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
    asio::co_spawn(acceptor_.get_executor(), republish_loop(), asio::detached);
    return bound;
}

// Publishes the recovered jobs that the broker did not take on start (it was down), until it
// takes them all or the server stops.
asio::awaitable<void> Server::republish_loop() {
    auto self = shared_from_this();
    auto publish = [this] { return context_.tracker->publish_recovered(); };
    if (co_await run_blocking(blocking_, publish) == 0) co_return;  // the usual start
    asio::steady_timer timer(acceptor_.get_executor());
    while (!stopped_) {
        timer.expires_after(kRepublishInterval);
        co_await timer.async_wait(kNoThrow);
        if (stopped_) break;
        if (co_await run_blocking(blocking_, publish) == 0) {
            module_logger("http")->info("every recovered job is published again");
            break;
        }
    }
}

asio::awaitable<void> Server::accept_loop() {
    auto self = shared_from_this();
    auto log = module_logger("http");
    std::uint64_t rejected = 0;
    while (!stopped_) {
        auto [error, socket] =
            co_await acceptor_.async_accept(asio::make_strand(context_.io), kNoThrow);
        if (error) {
            if (stopped_ || error == asio::error::operation_aborted) break;
            log->warn("accept failed: {}", error.message());
            continue;
        }
        if (open_sessions_ >= context_.options.max_connections) {
            // Counted and logged every 100th time so that a connection flood cannot fill the log.
            if (rejected++ % 100 == 0) {
                log->warn("connection limit {} reached; closing new connections ({} so far)",
                          context_.options.max_connections, rejected);
            }
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        // Responses and events leave in whole pieces, so Nagle's algorithm only delays the last
        // one. Failing to turn it off costs latency, not correctness, so the error is ignored.
        boost::system::error_code nodelay_error;
        socket.set_option(tcp::no_delay(true), nodelay_error);
        auto id = next_id_++;
        auto executor = socket.get_executor();
        asio::co_spawn(executor, run_session(std::move(socket), id),
                       [log, id](std::exception_ptr failure) {
                           if (!failure) return;
                           try {
                               std::rethrow_exception(failure);
                           } catch (const std::exception& e) {
                               log->error("conn {}: session failed: {}", id, e.what());
                           }
                       });
    }
}

asio::awaitable<void> Server::run_session(tcp::socket socket, std::uint64_t id) {
    auto self = shared_from_this();
    ++open_sessions_;
    beast::tcp_stream stream(std::move(socket));
    set_closer(
        id, [&stream] { stream.socket().close(); }, false);
    {
        std::lock_guard lock(slots_mutex_);
        slots_[id].executor = co_await asio::this_coro::executor;
    }
    if (stopped_) stream.socket().close();

    beast::flat_buffer buffer;
    while (co_await serve_one(stream, buffer, id)) {
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
    forget(id);
    --open_sessions_;
}

// Reads one request and writes its response. Returns whether the connection stays open.
asio::awaitable<bool> Server::serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                        std::uint64_t id) {
    auto log = module_logger("http");
    const auto body_limit = context_.options.max_upload_bytes + kMultipartSlackBytes;
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(kHeaderLimitBytes);
    parser.body_limit(body_limit);

    stream.expires_after(context_.options.read_timeout);
    auto [header_error, header_bytes] =
        co_await beast_http::async_read_header(stream, buffer, parser, kNoThrow);
    if (header_error == beast_http::error::body_limit) {
        // Beast compares Content-Length with the body limit while it reads the header.
        co_await write_error(stream, Status::payload_too_large, "payload_too_large",
                             "request body exceeds the upload limit of " +
                                 std::to_string(context_.options.max_upload_bytes) + " bytes");
        co_return false;
    }
    if (header_error) {
        if (is_malformed(header_error)) {
            log->debug("conn {}: malformed request header: {}", id, header_error.message());
            co_await write_error(stream, Status::bad_request, "bad_request",
                                 "malformed HTTP request: " + header_error.message());
        }
        co_return false;
    }
    auto length = parser.content_length();
    if (length && *length > body_limit) {
        co_await write_error(stream, Status::payload_too_large, "payload_too_large",
                             "request body of " + std::to_string(*length) +
                                 " bytes exceeds the upload limit of " +
                                 std::to_string(context_.options.max_upload_bytes) + " bytes");
        co_return false;
    }
    if (beast::iequals(parser.get()[beast_http::field::expect], "100-continue")) {
        beast_http::response<beast_http::empty_body> go_on{Status::continue_, 11};
        auto [continue_error, continue_bytes] =
            co_await beast_http::async_write(stream, go_on, kNoThrow);
        if (continue_error) co_return false;
    }

    auto body_error = co_await read_body(stream, buffer, parser);
    if (body_error == beast_http::error::body_limit) {
        co_await write_error(stream, Status::payload_too_large, "payload_too_large",
                             "request body exceeds the upload limit of " +
                                 std::to_string(context_.options.max_upload_bytes) + " bytes");
        co_return false;
    }
    if (body_error) {
        if (is_malformed(body_error)) {
            co_await write_error(stream, Status::bad_request, "bad_request",
                                 "malformed HTTP request body: " + body_error.message());
        }
        co_return false;
    }

    auto request = parser.release();
    auto started = std::chrono::steady_clock::now();
    auto match = router_.match(request.method(), target_path(request.target()));
    if (match.stream && match.status == Status::ok) {
        const std::size_t max_streams =
            std::max<std::size_t>(1, context_.options.max_connections / 4);
        if (open_streams_.fetch_add(1) >= max_streams) {
            --open_streams_;
            co_await write_error(stream, Status::service_unavailable, "unavailable",
                                 std::to_string(max_streams) +
                                     " event streams are open, the most this server allows; "
                                     "retry later or poll GET /api/batches/{id}");
            co_return false;
        }
        struct StreamSlot {
            std::atomic<std::size_t>& count;
            ~StreamSlot() { --count; }
        } slot{open_streams_};
        set_closer(id, {}, true);
        co_await stream_events(
            stream, request, *context_.tracker,
            [this, id](std::function<void()> close) { set_closer(id, std::move(close), true); },
            id);
        co_return false;
    }

    auto reply = co_await run_handler(request, match, id);
    auto& response = reply.response;
    bool keep_alive = request.keep_alive() && !stopped_;
    response.keep_alive(keep_alive);
    const bool head = request.method() == beast_http::verb::head;
    const auto status = static_cast<unsigned>(response.result_int());
    boost::system::error_code write_error;
    if (reply.body) {
        write_error = co_await write_streamed(stream, reply, head, kWriteTimeout);
    } else {
        if (head) {
            auto size = response.body().size();
            response.body().clear();
            response.content_length(size);
        }
        stream.expires_after(kWriteTimeout);
        auto [error, written] = co_await beast_http::async_write(stream, response, kNoThrow);
        write_error = error;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record(match.pattern.empty() ? "unmatched" : match.pattern, request.method_string(), status,
           seconds);
    if (write_error) {
        log->debug("conn {}: writing the response failed: {}", id, write_error.message());
        co_return false;
    }
    co_return keep_alive;
}

// The body of a request with a Content-Length goes straight into the request (read_body_direct);
// a chunked one goes through the parser. The read timeout limits the silence between two pieces
// of the body, not the whole upload, so that a large upload over a slow link still arrives.
asio::awaitable<boost::system::error_code> Server::read_body(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    beast_http::request_parser<beast_http::string_body>& parser) {
    auto length = parser.content_length();
    if (length && !parser.is_done()) {
        auto error = co_await read_body_direct(stream, buffer, parser.get().body(), *length,
                                               context_.options.read_timeout);
        co_return error;
    }
    boost::system::error_code body_error;
    while (!body_error && !parser.is_done()) {
        stream.expires_after(context_.options.read_timeout);
        auto [read_error, read_bytes] =
            co_await beast_http::async_read_some(stream, buffer, parser, kNoThrow);
        body_error = read_error;
    }
    co_return body_error;
}

// Handlers that change state (every method but GET and HEAD) write to the store and fsync, so
// they run on the blocking pool; reads run on the session's own strand.
asio::awaitable<Reply> Server::run_handler(const Request& request, const Router::Match& match,
                                           std::uint64_t id) {
    const auto method = request.method();
    // The image routes open a stored object, which may compute a deferred ETag (docs/store.md),
    // so they run on the blocking pool like the writes.
    const bool reads_object =
        match.pattern.ends_with("/result") || match.pattern.ends_with("/input");
    if ((method == beast_http::verb::get || method == beast_http::verb::head) && !reads_object) {
        co_return handle(request, match, id);
    }
    co_return co_await run_blocking(blocking_, [&] { return handle(request, match, id); });
}

Reply Server::handle(const Request& request, const Router::Match& match, std::uint64_t id) {
    auto log = module_logger("http");
    Reply reply;
    try {
        reply = router_.dispatch(request, match);
    } catch (const std::exception& e) {
        log->error("conn {}: {} {} failed: {}", id, request.method_string(), request.target(),
                   e.what());
        reply = error_response(Status::internal_server_error, "internal_error",
                               "the server failed while handling this request; see its log");
    }
    auto status = reply.response.result_int();
    if (status >= 500) {
        log->warn("conn {}: {} {} -> {}", id, request.method_string(), request.target(), status);
    } else {
        log->debug("conn {}: {} {} -> {}", id, request.method_string(), request.target(), status);
    }
    return reply;
}

asio::awaitable<void> Server::write_error(beast::tcp_stream& stream, Status status,
                                          std::string_view code, std::string message) {
    auto response = error_response(status, code, message);
    response.keep_alive(false);
    stream.expires_after(kWriteTimeout);
    auto [error, written] = co_await beast_http::async_write(stream, response, kNoThrow);
    (void)error;  // the connection closes either way
    record("unmatched", "unknown", static_cast<unsigned>(status), 0.0);
}

void Server::record(std::string_view route, std::string_view method, unsigned status,
                    double seconds) {
    context_.metrics
        .http_request_seconds(std::string(route), std::string(method), std::to_string(status))
        .Observe(seconds);
}

void Server::set_closer(std::uint64_t id, std::function<void()> close, bool events) {
    std::lock_guard lock(slots_mutex_);
    auto& slot = slots_[id];
    if (close) slot.close = std::move(close);
    slot.events = slot.events || events;
}

void Server::forget(std::uint64_t id) {
    std::lock_guard lock(slots_mutex_);
    slots_.erase(id);
}

void Server::stop() {
    if (stopped_.exchange(true)) return;
    auto log = module_logger("http");
    auto self = shared_from_this();
    asio::post(acceptor_.get_executor(), [self] {
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
    });

    std::vector<std::pair<std::uint64_t, Slot>> slots;
    {
        std::lock_guard lock(slots_mutex_);
        slots.assign(slots_.begin(), slots_.end());
    }
    // Event streams first: they never end on their own.
    std::stable_partition(slots.begin(), slots.end(),
                          [](const auto& slot) { return slot.second.events; });
    for (const auto& [id, slot] : slots) {
        // Run on the session's strand, and only while the session still exists.
        asio::post(slot.executor, [self, id = id] {
            std::function<void()> close;
            {
                std::lock_guard lock(self->slots_mutex_);
                auto found = self->slots_.find(id);
                if (found == self->slots_.end()) return;
                close = found->second.close;
            }
            if (close) close();
        });
    }
    context_.tracker->stop_consuming();
    if (context_.retention) context_.retention->stop();
    stop_management(context_);
    log->info("http stopping: listener closed, {} sessions closing", slots.size());
}

struct Frontend::Impl {
    std::shared_ptr<Server> server;
};

Frontend::Frontend(asio::io_context& io, broker::Broker& broker, store::ObjectStore& store,
                   metrics::Metrics& metrics, FrontendOptions options)
    : impl_(std::make_unique<Impl>(
          Impl{std::make_shared<Server>(io, broker, store, metrics, std::move(options))})) {}

Frontend::~Frontend() { stop(); }

Result<tcp::endpoint> Frontend::start() { return impl_->server->start(); }

void Frontend::stop() { impl_->server->stop(); }

void Frontend::set_readiness_probe(ReadinessProbe probe) {
    auto& context = impl_->server->context();
    std::lock_guard lock(context.probe_mutex);
    context.readiness_probe = std::move(probe);
}

void Frontend::set_admin_hooks(AdminHooks hooks) {
    impl_->server->context().management->admin.set_hooks(std::move(hooks));
}

}  // namespace imgbus::http
