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
#include "imgbus/dynload/libcrypto.hpp"
#include "imgbus/http/frontend.hpp"
#include "imgbus/log.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/s3/client.hpp"
#include "imgbus/s3/server.hpp"
#include "imgbus/store/filesystem_store.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "logging.hpp"
#include "metrics_server.hpp"
#include "png_flags.hpp"
#include "remote_broker.hpp"
#include "serve_roles.hpp"

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
    int store_timeout = 60;
    std::string broker_url;
    int max_attempts = 3;
    std::string job_retention = "7d";
    std::string bucket = "imgbus";
    std::string metrics_address;  // empty: see effective_metrics_address()
};

void add_serve_flags(CLI::App& command, ServeOptions& options) {
    command
        .add_option("--http", options.http_address,
                    "HOST:PORT of the web UI and API; port 0 picks a free port; off runs no "
                    "frontend (no HTTP listener, no consumer of imgbus.events)")
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
                    "HOST:PORT of the S3-compatible API; port 0 picks a free port; off runs "
                    "no S3 listener")
        ->envname("IMGBUS_S3")
        ->capture_default_str();
    command
        .add_option("--amqp", options.amqp_address,
                    "HOST:PORT of the AMQP 0-9-1 listener (user and password are the access and "
                    "secret key); port 0 picks a free port; off runs no AMQP listener")
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
        .add_option(
            "--store-timeout", options.store_timeout,
            "seconds a request to --store may move no data (no connection, no reply or a stalled "
            "transfer) before it fails; a slow transfer that keeps moving is not cut off")
        ->envname("IMGBUS_STORE_TIMEOUT")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
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
    command
        .add_option("--bucket", options.bucket,
                    "bucket of the uploads, results and job records, created when missing; on "
                    "AWS S3 a name that your account owns")
        ->envname("IMGBUS_BUCKET")
        ->capture_default_str();
    command
        .add_option("--metrics-addr", options.metrics_address,
                    "HOST:PORT of a separate /metrics and /healthz listener, or off; by default "
                    "127.0.0.1:9100 with --http off and workers, else off")
        ->envname("IMGBUS_METRICS_ADDR");
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
    result.bucket = options.bucket;
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

// The external broker of --broker. It connects in the background: the listeners start at once,
// /readyz and uploads answer 503 until the connection is up, and the queues and consumers noted
// meanwhile are set up when it comes up.
std::unique_ptr<broker::Broker> open_external_broker(const ServeOptions& options,
                                                     const s3::Credentials& credentials,
                                                     metrics::Metrics& metrics) {
    auto opened = open_remote_broker(options.broker_url, credentials, metrics);
    if (!opened) fail(opened.error().message);
    module_logger("cli")->info("using the external broker at {}", (*opened)->describe());
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
        s3::ClientOptions client_options;
        client_options.stall_timeout = std::chrono::seconds(options.store_timeout);
        auto remote = s3::open_s3_store(options.store_url, credentials, client_options);
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

using tcp = boost::asio::ip::tcp;

// The listeners of this process; one that is off stays null.
struct Listeners {
    std::unique_ptr<http::Frontend> frontend;
    std::unique_ptr<s3::Server> s3;
    std::unique_ptr<amqp::Server> amqp;
    std::unique_ptr<MetricsServer> metrics;
    std::optional<tcp::endpoint> http_bound;
    std::optional<tcp::endpoint> s3_bound;
    std::optional<tcp::endpoint> amqp_bound;
    std::optional<tcp::endpoint> metrics_bound;

    void stop() {
        if (frontend) frontend->stop();
        if (s3) s3->stop();
        if (amqp) amqp->stop();
        if (metrics) metrics->stop();
    }
};

std::string url_of(const char* scheme, const tcp::endpoint& at) {
    return std::string(scheme) + format_endpoint(at.address().to_string(), at.port());
}

// What `imgbus admin` reaches: the worker pool, the data directory and the listeners.
http::AdminHooks admin_hooks(const ServeOptions& options, worker::WorkerPool& pool,
                             const Listeners& listeners) {
    http::AdminHooks hooks;
    hooks.pool = &pool;
    hooks.configured_workers = options.workers;
    hooks.data_dir = options.data_dir;
    std::vector<http::ListenerStatus> statuses{
        {"http", url_of("http://", *listeners.http_bound), 0}};
    if (listeners.s3_bound) statuses.push_back({"s3", url_of("http://", *listeners.s3_bound), 0});
    if (listeners.amqp_bound) {
        statuses.push_back({"amqp", url_of("amqp://", *listeners.amqp_bound), 0});
    }
    amqp::Server* amqp_server = listeners.amqp.get();
    hooks.listeners = [amqp_server, statuses] {
        auto current = statuses;  // the AMQP listener, when there is one, comes last
        if (amqp_server != nullptr) current.back().connections = amqp_server->connection_count();
        return current;
    };
    if (amqp_server == nullptr) {
        return hooks;  // --broker or --amqp off: no clients or publishes of ours to show
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
void run_until_signal(boost::asio::io_context& io, boost::asio::io_context& amqp_io,
                      Listeners& listeners, worker::WorkerPool& pool, int io_threads) {
    auto log = module_logger("cli");
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
        if (error) {
            return;
        }
        log->info("received signal {}; shutting down", signal_number);
        log->info("shutdown 1/3: closing the HTTP, S3, AMQP and metrics listeners and sessions");
        listeners.stop();
        log->info("shutdown 2/3: stopping workers after their current jobs");
        pool.stop();
        log->info("shutdown 3/3: stopping I/O threads");
        io.stop();
        amqp_io.stop();
    });

    std::jthread amqp_thread([&amqp_io] { amqp_io.run(); });
    std::vector<std::jthread> threads;
    for (int i = 1; i < io_threads; ++i) {
        threads.emplace_back([&io] { io.run(); });
    }
    io.run();
    threads.clear();
    log->info("imgbus stopped");
}

// The listeners and roles of the flags, checked before anything is opened or written.
struct ServePlan {
    ServeRoles roles;
    std::optional<Endpoint> http;
    std::optional<Endpoint> s3;
    std::optional<Endpoint> amqp;
    std::optional<Endpoint> metrics;
    std::chrono::seconds retention{0};
};

std::optional<Endpoint> listener_endpoint(const std::string& value, const std::string& flag) {
    if (is_off(value)) return std::nullopt;
    auto parsed = parse_endpoint(value);
    if (!parsed) fail(flag + ": " + parsed.error().message + ", or off to run no such listener");
    return *parsed;
}

// Without --metrics-addr, a serve with --http off and workers keeps their metrics reachable on
// the port that `imgbus worker` uses; a frontend serves /metrics itself.
std::string effective_metrics_address(const ServeOptions& options) {
    if (!options.metrics_address.empty()) return options.metrics_address;
    const bool frontend = !is_off(options.http_address);
    return frontend || options.workers == 0 ? std::string(kOff) : "127.0.0.1:9100";
}

ServePlan plan_serve(const ServeOptions& options) {
    ServePlan plan;
    plan.http = listener_endpoint(options.http_address, "--http");
    plan.s3 = listener_endpoint(options.s3_address, "--s3");
    plan.amqp = listener_endpoint(options.amqp_address, "--amqp");
    plan.metrics = listener_endpoint(effective_metrics_address(options), "--metrics-addr");
    plan.roles = {.frontend = plan.http.has_value(),
                  .s3_listener = plan.s3.has_value(),
                  .amqp_listener = plan.amqp.has_value() && options.broker_url.empty(),
                  .external_broker = !options.broker_url.empty(),
                  .external_store = !options.store_url.empty(),
                  .workers = options.workers};
    if (auto checked = check_roles(plan.roles); !checked) fail(checked.error().message);
    if (auto bucket = check_bucket_flag(options.bucket); !bucket) fail(bucket.error().message);
    auto retention = parse_duration(options.job_retention, "--job-retention");
    if (!retention) fail(retention.error().message);
    plan.retention = *retention;
    return plan;
}

// The services the listeners and workers share.
struct Services {
    broker::Broker& broker;
    store::ObjectStore& store;
    metrics::Metrics& metrics;
    worker::WorkerPool& pool;
};

// Returns why this process is not ready, for /readyz and /healthz, or "" when it is. A remote
// broker that is reconnecting makes the frontend not ready, so uploads get 503.
std::string readiness(const Services& services, int workers) {
    const auto* remote = dynamic_cast<const amqp::RemoteBroker*>(&services.broker);
    if (remote != nullptr && !remote->connected()) {
        return "broker " + remote->describe() + " disconnected; reconnecting";
    }
    if (services.pool.running_workers() < workers) {
        return fmt::format("{} of {} workers running", services.pool.running_workers(), workers);
    }
    return std::string();
}

std::unique_ptr<http::Frontend> make_frontend(boost::asio::io_context& io, const Services& services,
                                              const ServeOptions& options, const ServePlan& plan,
                                              const s3::Credentials& credentials) {
    auto http_options = frontend_options(options, *plan.http);
    http_options.job_retention = plan.retention;
    http_options.management_username = credentials.access_key;
    http_options.management_password = credentials.secret_key;
    auto frontend = std::make_unique<http::Frontend>(io, services.broker, services.store,
                                                     services.metrics, std::move(http_options));
    frontend->set_readiness_probe(
        [services, workers = options.workers] { return readiness(services, workers); });
    return frontend;
}

std::unique_ptr<MetricsServer> make_metrics_server(boost::asio::io_context& io,
                                                   const Services& services, int workers) {
    MetricsRoutes routes{.metrics = [&metrics = services.metrics] { return metrics.serialize(); },
                         .health = [services, workers] { return readiness(services, workers); }};
    return std::make_unique<MetricsServer>(io, std::move(routes));
}

tcp::endpoint started_or_fail(Result<tcp::endpoint> started, Listeners& listeners,
                              worker::WorkerPool& pool) {
    if (started) return *started;
    listeners.stop();
    pool.stop();
    fail(started.error().message);
}

// Starts the workers and every listener that is on. The frontend comes first: it loads the job
// records and subscribes to the events before anything can reach the broker from outside.
void start_all(boost::asio::io_context& io, boost::asio::io_context& amqp_io,
               const Services& services, const ServeOptions& options, const ServePlan& plan,
               const s3::Credentials& credentials, Listeners& listeners) {
    auto& pool = services.pool;
    if (plan.http) listeners.frontend = make_frontend(io, services, options, plan, credentials);
    if (auto started = pool.start(); !started) {
        fail("cannot start the workers: " + started.error().message);
    }
    if (listeners.frontend) {
        listeners.http_bound = started_or_fail(listeners.frontend->start(), listeners, pool);
    }
    if (plan.s3) {
        listeners.s3 = std::make_unique<s3::Server>(io, services.store, &services.metrics,
                                                    s3_options(options, *plan.s3, credentials));
        listeners.s3_bound = started_or_fail(listeners.s3->start(), listeners, pool);
    }
    // The AMQP listener serves the embedded broker only.
    if (plan.roles.amqp_listener) {
        listeners.amqp =
            std::make_unique<amqp::Server>(amqp_io, services.broker,
                                           amqp::ServerOptions{.host = plan.amqp->host,
                                                               .port = plan.amqp->port,
                                                               .username = credentials.access_key,
                                                               .password = credentials.secret_key});
        listeners.amqp_bound = started_or_fail(listeners.amqp->start(), listeners, pool);
    }
    if (plan.metrics) {
        listeners.metrics = make_metrics_server(io, services, options.workers);
        listeners.metrics_bound = started_or_fail(
            listeners.metrics->start(plan.metrics->host, plan.metrics->port), listeners, pool);
    }
}

// One line per listener, in the forms that scripts and tests read, then the roles at a glance.
void log_roles(const ServeOptions& options, const Listeners& listeners) {
    auto log = module_logger("cli");
    auto on = [](const char* scheme, const std::optional<tcp::endpoint>& bound) {
        return bound ? url_of(scheme, *bound) : std::string("off");
    };
    if (listeners.http_bound)
        log->info("http listening on {}", on("http://", listeners.http_bound));
    if (listeners.s3_bound) log->info("s3 listening on {}", on("http://", listeners.s3_bound));
    if (listeners.amqp_bound)
        log->info("amqp listening on {}", on("amqp://", listeners.amqp_bound));
    if (listeners.metrics_bound) {
        log->info("metrics listening on {}/metrics", on("http://", listeners.metrics_bound));
    }
    const std::string broker = options.broker_url.empty()
                                   ? "embedded (AMQP " + on("amqp://", listeners.amqp_bound) + ")"
                                   : std::string("external");
    const std::string store = options.store_url.empty() ? "embedded" : options.store_url;
    log->info(
        "imgbus serve roles: frontend {}, broker {}, store {} (S3 listener {}), bucket {}, {} "
        "workers, metrics {}",
        listeners.http_bound ? "on " + on("http://", listeners.http_bound) : "off (--http off)",
        broker, store, on("http://", listeners.s3_bound), options.bucket, options.workers,
        listeners.metrics_bound ? on("http://", listeners.metrics_bound)
                                : (listeners.http_bound ? "on the HTTP listener" : "off"));
}

// Loads libcrypto before any listener opens, so that a missing library stops serve at start
// instead of dropping each request later. Every serve needs it, because the embedded store
// computes MD5 ETags, --store signs its requests, and the S3 and AMQP listeners check secrets.
void require_libcrypto() {
    if (auto loaded = dynload::load_libcrypto(); !loaded) fail(loaded.error().message);
}

void run_serve(const ServeOptions& options) {
    setup_logging(options.log_level);
    const auto plan = plan_serve(options);
    require_libcrypto();
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
    // One thread runs every AMQP connection. With the connections on the shared I/O threads,
    // each read was handed from the thread that waited in epoll to the other one, and a
    // publisher paid for both wake-ups (docs/benchmarks.md, publish on one thread).
    boost::asio::io_context amqp_io(1);
    Listeners listeners;
    start_all(io, amqp_io, {*broker, *store, metrics, pool}, options, plan, credentials.credentials,
              listeners);
    module_logger("cli")->info(
        "imgbus serve: data in {}, {} workers, prefetch {}, job queue limit {}",
        std::filesystem::absolute(options.data_dir).string(), options.workers, options.prefetch,
        options.queue_max_length);
    log_roles(options, listeners);
    log_credentials(credentials);
    if (listeners.frontend)
        listeners.frontend->set_admin_hooks(admin_hooks(options, pool, listeners));
    run_until_signal(io, amqp_io, listeners, pool, options.io_threads);
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
