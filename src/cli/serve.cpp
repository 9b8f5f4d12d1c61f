// SPDX-License-Identifier: MIT
// `imgbus serve`: the embedded broker, the filesystem store, the worker pool and the HTTP
// frontend in one process.
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "credentials.hpp"
#include "duration.hpp"
#include "endpoint.hpp"
#include "imgbus/amqp/server.hpp"
#include "imgbus/broker/broker.hpp"
#include "imgbus/http/frontend.hpp"
#include "imgbus/log.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/s3/client.hpp"
#include "imgbus/s3/server.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "logging.hpp"
#include "png_flags.hpp"
#include "remote_broker.hpp"

namespace imgbus::cli {
namespace {

struct ServeOptions {
    std::string http_address = "127.0.0.1:8080";
    std::string data_dir = "imgbus-data";
    int workers = 1;
    int io_threads = 2;
    std::uint32_t prefetch = 1;
    int max_threads_per_job = 64;
    int max_passes = 100;
    int max_runs = 20;
    std::size_t queue_max_length = 10'000;
    std::uint64_t max_upload_mib = 64;
    std::uint64_t max_pixels = 100'000'000;
    int retry_after_seconds = 2;
    bool fsync = true;
    std::string log_level = "info";
    int png_level = imaging::EncodeOptions{}.png_compression;
    imaging::PngFilter png_filter = imaging::EncodeOptions{}.png_filter;
    std::string s3_address = "127.0.0.1:9000";
    std::string amqp_address = "127.0.0.1:5672";
    std::string access_key;
    std::string secret_key;
    std::string store_url;
    std::string broker_url;
    int max_attempts = 3;
    std::string job_retention = "7d";
};

void add_serve_flags(CLI::App& command, ServeOptions& options) {
    command
        .add_option("--http", options.http_address,
                    "HOST:PORT of the web UI and API; port 0 "
                    "picks a free port")
        ->envname("IMGBUS_HTTP")
        ->capture_default_str();
    command.add_option("--data-dir", options.data_dir, "folder for objects and job records")
        ->envname("IMGBUS_DATA_DIR")
        ->capture_default_str();
    command
        .add_option("--workers", options.workers,
                    "worker threads consuming the job queue; 0 "
                    "runs the frontend alone")
        ->envname("IMGBUS_WORKERS")
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    command.add_option("--io-threads", options.io_threads, "threads serving HTTP connections")
        ->envname("IMGBUS_IO_THREADS")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    command.add_option("--prefetch", options.prefetch, "unacknowledged jobs each worker may hold")
        ->envname("IMGBUS_PREFETCH")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command
        .add_option("--max-threads-per-job", options.max_threads_per_job,
                    "upper limit of a job's OpenMP threads")
        ->envname("IMGBUS_MAX_THREADS_PER_JOB")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    command.add_option("--max-passes", options.max_passes, "upper limit of a job's kernel passes")
        ->envname("IMGBUS_MAX_PASSES")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    command
        .add_option("--max-runs", options.max_runs,
                    "upper limit of runs per thread count in "
                    "one upload")
        ->envname("IMGBUS_MAX_RUNS")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command
        .add_option("--queue-max-length", options.queue_max_length,
                    "messages the job queue "
                    "holds before uploads get 503 with Retry-After")
        ->envname("IMGBUS_QUEUE_MAX_LENGTH")
        ->check(CLI::Range(1, 10'000'000))
        ->capture_default_str();
    command.add_option("--max-upload-mib", options.max_upload_mib, "largest upload, in MiB")
        ->envname("IMGBUS_MAX_UPLOAD_MIB")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    command
        .add_option("--max-pixels", options.max_pixels,
                    "largest image, in pixels (width x height), checked from the header before "
                    "decoding")
        ->envname("IMGBUS_MAX_PIXELS")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4'000'000'000}))
        ->capture_default_str();
    command
        .add_option("--retry-after", options.retry_after_seconds,
                    "seconds sent in Retry-After "
                    "with a 503")
        ->envname("IMGBUS_RETRY_AFTER")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    command
        .add_option("--fsync", options.fsync,
                    "fsync each stored object before it becomes "
                    "visible (true|false)")
        ->envname("IMGBUS_FSYNC")
        ->capture_default_str();
    command
        .add_option("--s3", options.s3_address,
                    "HOST:PORT of the S3-compatible API; port 0 picks a free port")
        ->envname("IMGBUS_S3")
        ->capture_default_str();
    command
        .add_option("--amqp", options.amqp_address,
                    "HOST:PORT of the AMQP 0-9-1 listener (user and password are the access and "
                    "secret key); port 0 picks a free port")
        ->envname("IMGBUS_AMQP")
        ->capture_default_str();
    command
        .add_option("--access-key", options.access_key,
                    "S3 access key; without it and --secret-key a generated pair is kept in "
                    "<data-dir>/credentials.json")
        ->envname("IMGBUS_ACCESS_KEY");
    command.add_option("--secret-key", options.secret_key, "S3 secret key")
        ->envname("IMGBUS_SECRET_KEY");
    command
        .add_option("--store", options.store_url,
                    "external S3 store to use instead of the embedded one, as "
                    "http://HOST:PORT (path-style) or s3://HOST:PORT; credentials from "
                    "--access-key/--secret-key")
        ->envname("IMGBUS_STORE");
    command
        .add_option("--broker", options.broker_url,
                    "external AMQP broker to use instead of the embedded one, as "
                    "amqp://USER:PASSWORD@HOST:PORT/VHOST; without a user in the URL, "
                    "IMGBUS_BROKER_USER/IMGBUS_BROKER_PASSWORD or the S3 key pair is used. "
                    "The AMQP listener (--amqp) is not started then")
        ->envname("IMGBUS_BROKER");
    command
        .add_option("--max-attempts", options.max_attempts,
                    "tries of a job that failed because the store was unreachable, before it "
                    "goes to imgbus.jobs.dead")
        ->envname("IMGBUS_MAX_ATTEMPTS")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    command
        .add_option("--job-retention", options.job_retention,
                    "finished jobs older than this are deleted with their input and result, "
                    "such as 7d, 12h, 30m or 90s; 0 keeps them forever")
        ->envname("IMGBUS_JOB_RETENTION")
        ->capture_default_str();
    const auto png = add_png_options(command, options.png_level, options.png_filter);
    png.level->envname("IMGBUS_PNG_LEVEL");
    png.filter->envname("IMGBUS_PNG_FILTER");
    command.add_option("--log-level", options.log_level, "trace, debug, info, warn or error")
        ->envname("IMGBUS_LOG_LEVEL")
        ->check(CLI::IsMember(kLogLevels))
        ->capture_default_str();
}

imaging::DecodeLimits decode_limits(const ServeOptions& options) {
    imaging::DecodeLimits limits;
    limits.max_pixels = options.max_pixels;
    return limits;
}

worker::WorkerOptions worker_options(const ServeOptions& options) {
    worker::WorkerOptions result;
    result.workers = options.workers;
    result.prefetch = options.prefetch;
    result.max_threads_per_job = options.max_threads_per_job;
    result.max_passes_per_job = options.max_passes;
    result.decode_limits = decode_limits(options);
    result.job_queue_max_length = options.queue_max_length;
    result.max_attempts = options.max_attempts;
    result.encode_options.png_compression = options.png_level;
    result.encode_options.png_filter = options.png_filter;
    return result;
}

http::FrontendOptions frontend_options(const ServeOptions& options, const Endpoint& endpoint) {
    http::FrontendOptions result;
    result.host = endpoint.host;
    result.port = endpoint.port;
    result.max_upload_bytes = options.max_upload_mib << 20;
    result.decode_limits = decode_limits(options);
    result.max_threads_per_job = options.max_threads_per_job;
    result.max_passes = options.max_passes;
    result.max_runs = options.max_runs;
    result.retry_after = std::chrono::seconds(options.retry_after_seconds);
    result.workers = options.workers;
    return result;
}

[[noreturn]] void fail(const std::string& message) {
    spdlog::error("{}", message);
    // Flush, not spdlog::shutdown(): destructors that run while the exception unwinds (the
    // frontend's stop) still log, and a shut-down spdlog has no default logger to clone.
    spdlog::default_logger()->flush();
    throw CLI::RuntimeError(1);
}

// Declares the job, event and dead-letter queues with the settings every imgbus process uses
// (worker/queues.hpp). A queue that exists with other settings, such as a journaled job queue
// declared with another --queue-max-length, is kept as it is.
void declare_queues(broker::Broker& broker, const ServeOptions& options) {
    const std::pair<std::string, broker::QueueOptions> queues[] = {
        {std::string(worker::kJobQueue), worker::job_queue_options(options.queue_max_length)},
        {std::string(worker::kEventQueue), worker::event_queue_options(options.queue_max_length)},
        {std::string(worker::kDeadLetterQueue), worker::dead_letter_queue_options()}};
    for (const auto& [queue, queue_options] : queues) {
        auto declared = worker::ensure_queue(broker, queue, queue_options);
        if (!declared) fail("cannot declare queue " + queue + ": " + declared.error().message);
        if (!declared->empty()) module_logger("cli")->warn("{}", *declared);
    }
}

std::atomic<bool> g_interrupted{false};
extern "C" void note_interrupt(int) { g_interrupted = true; }

// The external broker of --broker, once its first connection is up. SIGINT or SIGTERM while
// waiting ends the command.
std::unique_ptr<broker::Broker> open_external_broker(const ServeOptions& options,
                                                     const s3::Credentials& credentials,
                                                     metrics::Metrics& metrics) {
    auto opened = open_remote_broker(options.broker_url, credentials, metrics);
    if (!opened) fail(opened.error().message);
    auto log = module_logger("cli");
    log->info("using the external broker at {}", (*opened)->describe());
    auto previous_int = std::signal(SIGINT, note_interrupt);
    auto previous_term = std::signal(SIGTERM, note_interrupt);
    const bool up = wait_for_broker(**opened, [] { return g_interrupted.load(); });
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    if (!up) fail("interrupted while waiting for the broker");
    return std::move(*opened);
}

// The embedded broker with its journal under <data-dir>/broker, replayed before anything runs.
std::unique_ptr<broker::Broker> open_broker(const ServeOptions& options) {
    broker::BrokerOptions broker_options;
    broker_options.data_dir = std::filesystem::path(options.data_dir) / "broker";
    broker_options.fsync = options.fsync;
    auto opened = broker::open_embedded_broker(broker_options);
    if (!opened) {
        fail("cannot open the broker journal: " + opened.error().message);
    }
    return std::move(*opened);
}

std::unique_ptr<store::ObjectStore> open_store(const ServeOptions& options,
                                               const s3::Credentials& credentials) {
    namespace fs = std::filesystem;
    if (!options.store_url.empty()) {
        auto remote = s3::open_s3_store(options.store_url, credentials);
        if (!remote) {
            fail(remote.error().message);
        }
        module_logger("cli")->info("using the external S3 store at {}", options.store_url);
        return std::move(*remote);
    }
    const fs::path root = fs::path(options.data_dir) / "store";
    std::error_code error;
    fs::create_directories(root, error);
    if (error) {
        fail(
            fmt::format("cannot create the data directory {}: {}; choose a writable folder with "
                        "--data-dir",
                        root.string(), error.message()));
    }
    fs::permissions(options.data_dir, fs::perms::owner_all, fs::perm_options::replace, error);
    store::FilesystemStoreOptions store_options;
    store_options.fsync = options.fsync;
    try {
        return store::open_filesystem_store(root, store_options);
    } catch (const std::exception& e) {
        fail(fmt::format("cannot open the object store in {}: {}", root.string(), e.what()));
    }
}

ResolvedCredentials resolve_s3_credentials(const ServeOptions& options) {
    std::error_code error;
    std::filesystem::create_directories(options.data_dir, error);
    auto resolved = resolve_credentials(options.access_key, options.secret_key, options.data_dir);
    if (!resolved) {
        fail(resolved.error().message);
    }
    return std::move(*resolved);
}

// Says where the credentials are, never what the secret is.
void log_credentials(const ResolvedCredentials& resolved) {
    auto log = module_logger("cli");
    if (resolved.file.empty()) {
        log->info("s3 access key {} (from --access-key or IMGBUS_ACCESS_KEY)",
                  resolved.credentials.access_key);
        return;
    }
    log->info("s3 access key {}; the key pair is in {}{}", resolved.credentials.access_key,
              std::filesystem::absolute(resolved.file).string(),
              resolved.generated ? " (generated on this first start, mode 0600)" : "");
}

s3::ServerOptions s3_options(const ServeOptions& options, const Endpoint& endpoint,
                             const s3::Credentials& credentials) {
    s3::ServerOptions result;
    result.host = endpoint.host;
    result.port = endpoint.port;
    result.credentials = credentials;
    result.multipart_dir = std::filesystem::path(options.data_dir) / "s3-multipart";
    return result;
}

// What `imgbus admin` reaches: the worker pool, the data directory and the listeners.
http::AdminHooks admin_hooks(const ServeOptions& options, worker::WorkerPool& pool,
                             amqp::Server* amqp_server, const boost::asio::ip::tcp::endpoint& http,
                             const boost::asio::ip::tcp::endpoint& s3,
                             const boost::asio::ip::tcp::endpoint* amqp) {
    auto url = [](const char* scheme, const boost::asio::ip::tcp::endpoint& at) {
        return std::string(scheme) + format_endpoint(at.address().to_string(), at.port());
    };
    http::AdminHooks hooks;
    hooks.pool = &pool;
    hooks.configured_workers = options.workers;
    hooks.data_dir = options.data_dir;
    std::vector<http::ListenerStatus> listeners{{"http", url("http://", http), 0},
                                                {"s3", url("http://", s3), 0}};
    if (amqp != nullptr) listeners.push_back({"amqp", url("amqp://", *amqp), 0});
    hooks.listeners = [amqp_server, listeners] {
        auto current = listeners;
        if (amqp_server != nullptr) current[2].connections = amqp_server->connection_count();
        return current;
    };
    if (amqp_server == nullptr) {
        return hooks;  // --broker: the clients and publishes belong to the external broker
    }
    hooks.connections = [amqp_server] { return amqp_server->connections(); };
    hooks.intake_paused = [amqp_server](bool paused) {
        if (!paused) {
            amqp_server->release_publishes();
            return;
        }
        amqp_server->hold_publishes(std::string(worker::kJobQueue),
                                    "imgbus intake paused by an operator; publishes to " +
                                        std::string(worker::kJobQueue) + " wait until it resumes");
    };
    return hooks;
}

// Waits for SIGINT or SIGTERM, then shuts down in order: stop accepting and close sessions,
// let the workers finish their current jobs, stop the I/O threads.
void run_until_signal(boost::asio::io_context& io, http::Frontend& frontend, s3::Server& s3_server,
                      amqp::Server* amqp_server, worker::WorkerPool& pool, int io_threads) {
    auto log = module_logger("cli");
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
        if (error) {
            return;
        }
        log->info("received signal {}; shutting down", signal_number);
        log->info("shutdown 1/3: closing HTTP, S3 and AMQP listeners and sessions");
        frontend.stop();
        s3_server.stop();
        if (amqp_server != nullptr) amqp_server->stop();
        log->info("shutdown 2/3: stopping workers after their current jobs");
        pool.stop();
        log->info("shutdown 3/3: stopping I/O threads");
        io.stop();
    });

    std::vector<std::jthread> threads;
    for (int i = 1; i < io_threads; ++i) {
        threads.emplace_back([&io] { io.run(); });
    }
    io.run();
    threads.clear();
    log->info("imgbus stopped");
}

void run_serve(const ServeOptions& options) {
    setup_logging(options.log_level);
    auto log = module_logger("cli");
    const auto endpoint = parse_endpoint(options.http_address);
    if (!endpoint) {
        fail(endpoint.error().message);
    }

    auto s3_endpoint = parse_endpoint(options.s3_address);
    if (!s3_endpoint) {
        fail(s3_endpoint.error().message);
    }
    auto amqp_endpoint = parse_endpoint(options.amqp_address);
    if (!amqp_endpoint) {
        fail(amqp_endpoint.error().message);
    }
    auto credentials = resolve_s3_credentials(options);
    auto store = open_store(options, credentials.credentials);
    metrics::Metrics metrics;
    attach_log_error_counter(metrics.log_errors_total());
    const bool external_broker = !options.broker_url.empty();
    auto broker = external_broker ? open_external_broker(options, credentials.credentials, metrics)
                                  : open_broker(options);
    declare_queues(*broker, options);

    worker::WorkerPool pool(*broker, *store, metrics, worker_options(options));
    boost::asio::io_context io(options.io_threads);
    auto http_options = frontend_options(options, *endpoint);
    auto retention = parse_duration(options.job_retention, "--job-retention");
    if (!retention) {
        fail(retention.error().message);
    }
    http_options.job_retention = *retention;
    http_options.management_username = credentials.credentials.access_key;
    http_options.management_password = credentials.credentials.secret_key;
    http::Frontend frontend(io, *broker, *store, metrics, std::move(http_options));
    // A remote broker that is reconnecting makes the frontend not ready: uploads get 503.
    const auto* remote = dynamic_cast<const amqp::RemoteBroker*>(broker.get());
    frontend.set_readiness_probe([&pool, &options, remote] {
        if (remote != nullptr && !remote->connected()) {
            return "broker " + remote->describe() + " disconnected; reconnecting";
        }
        if (pool.running_workers() < options.workers) {
            return fmt::format("{} of {} workers running", pool.running_workers(), options.workers);
        }
        return std::string();
    });

    if (auto started = pool.start(); !started) {
        fail("cannot start the workers: " + started.error().message);
    }
    auto bound = frontend.start();
    if (!bound) {
        pool.stop();
        fail(bound.error().message);
    }
    s3::Server s3_server(io, *store, &metrics,
                         s3_options(options, *s3_endpoint, credentials.credentials));
    auto s3_bound = s3_server.start();
    if (!s3_bound) {
        frontend.stop();
        pool.stop();
        fail(s3_bound.error().message);
    }
    // The AMQP listener serves the embedded broker only.
    std::unique_ptr<amqp::Server> amqp_server;
    std::optional<boost::asio::ip::tcp::endpoint> amqp_bound;
    if (!external_broker) {
        amqp_server = std::make_unique<amqp::Server>(
            io, *broker,
            amqp::ServerOptions{.host = amqp_endpoint->host,
                                .port = amqp_endpoint->port,
                                .username = credentials.credentials.access_key,
                                .password = credentials.credentials.secret_key});
        auto started = amqp_server->start();
        if (!started) {
            frontend.stop();
            s3_server.stop();
            pool.stop();
            fail(started.error().message);
        }
        amqp_bound = *started;
    }
    log->info("imgbus serve: data in {}, {} workers, prefetch {}, job queue limit {}",
              std::filesystem::absolute(options.data_dir).string(), options.workers,
              options.prefetch, options.queue_max_length);
    log->info("http listening on http://{}",
              format_endpoint(bound->address().to_string(), bound->port()));
    log->info("s3 listening on http://{}",
              format_endpoint(s3_bound->address().to_string(), s3_bound->port()));
    if (amqp_bound) {
        log->info("amqp listening on amqp://{}",
                  format_endpoint(amqp_bound->address().to_string(), amqp_bound->port()));
    }
    log_credentials(credentials);
    frontend.set_admin_hooks(admin_hooks(options, pool, amqp_server.get(), *bound, *s3_bound,
                                         amqp_bound ? &*amqp_bound : nullptr));
    run_until_signal(io, frontend, s3_server, amqp_server.get(), pool, options.io_threads);
    // Flush, not spdlog::shutdown(): the listeners' destructors below still log.
    spdlog::default_logger()->flush();
}

}  // namespace

void register_serve(CLI::App& app) {
    auto options = std::make_shared<ServeOptions>();
    auto* command = app.add_subcommand(
        "serve", "Run the broker, object store, workers and web UI in one process");
    add_serve_flags(*command, *options);
    command->callback([options] { run_serve(*options); });
}

}  // namespace imgbus::cli
