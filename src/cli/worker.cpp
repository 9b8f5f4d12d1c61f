// SPDX-License-Identifier: MIT
// `imgbus worker`: a worker process on its own, consuming the job queue of an external broker
// and reading and writing images in an external S3 store.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "commands.hpp"
#include "credentials.hpp"
#include "endpoint.hpp"
#include "imgbus/dynload/libcrypto.hpp"
#include "imgbus/log.hpp"
#include "imgbus/s3/client.hpp"
#include "imgbus/worker/worker_pool.hpp"
#include "logging.hpp"
#include "metrics_server.hpp"
#include "remote_broker.hpp"

namespace imgbus::cli {
namespace {

struct WorkerFlags {
    std::string broker_url;
    std::string store_url;
    std::string access_key;
    std::string secret_key;
    std::string credentials_file;
    int workers = 1;
    std::uint32_t prefetch = 1;
    int max_threads = 64;
    int max_passes = 100;
    std::uint64_t max_pixels = 100'000'000;
    int max_attempts = 3;
    int store_timeout = 60;
    std::string metrics_address = "127.0.0.1:9100";
    std::string log_level = "info";
};

void add_worker_flags(CLI::App& command, WorkerFlags& flags) {
    command
        .add_option("--broker", flags.broker_url,
                    "broker as amqp://USER:PASSWORD@HOST:PORT/VHOST (vhost / is %2F); prefer "
                    "IMGBUS_BROKER_USER/IMGBUS_BROKER_PASSWORD to a password in the URL, which "
                    "other users can read in ps")
        ->envname("IMGBUS_BROKER")
        ->required();
    command
        .add_option("--store", flags.store_url,
                    "S3 store as http://HOST:PORT (path-style; an imgbus serve's --s3, MinIO) or "
                    "s3://HOST:PORT for https")
        ->envname("IMGBUS_STORE")
        ->required();
    command.add_option("--access-key", flags.access_key, "S3 access key")
        ->envname("IMGBUS_ACCESS_KEY");
    command.add_option("--secret-key", flags.secret_key, "S3 secret key (prefer the variable)")
        ->envname("IMGBUS_SECRET_KEY");
    command
        .add_option("--credentials-file", flags.credentials_file,
                    "JSON key pair {\"access_key\", \"secret_key\"} with mode 0600, such as an "
                    "imgbus serve's <data-dir>/credentials.json; used for the store and, when "
                    "the URL and IMGBUS_BROKER_USER give no user, for the broker")
        ->envname("IMGBUS_CREDENTIALS_FILE");
    command.add_option("--workers", flags.workers, "jobs processed at once (consumer threads)")
        ->envname("IMGBUS_WORKERS")
        // 0 passes here and is rejected in run_worker: CLI11 2.1 checks the variables of every
        // command, and IMGBUS_WORKERS=0 is valid for `imgbus serve`.
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    command.add_option("--prefetch", flags.prefetch, "unacknowledged jobs each worker may hold")
        ->envname("IMGBUS_PREFETCH")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command.add_option("--max-threads", flags.max_threads, "upper limit of a job's OpenMP threads")
        ->envname("IMGBUS_MAX_THREADS_PER_JOB")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    command.add_option("--max-passes", flags.max_passes, "upper limit of a job's kernel passes")
        ->envname("IMGBUS_MAX_PASSES")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    command.add_option("--max-pixels", flags.max_pixels, "largest image, in pixels")
        ->envname("IMGBUS_MAX_PIXELS")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4'000'000'000}))
        ->capture_default_str();
    command
        .add_option("--max-attempts", flags.max_attempts,
                    "tries of a job that failed because the store was unreachable, before it "
                    "goes to imgbus.jobs.dead and is reported failed")
        ->envname("IMGBUS_MAX_ATTEMPTS")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    command
        .add_option(
            "--store-timeout", flags.store_timeout,
            "seconds a store request may move no data (no connection, no reply or a stalled "
            "transfer) before it fails; a slow transfer that keeps moving is not cut off")
        ->envname("IMGBUS_STORE_TIMEOUT")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    command
        .add_option("--metrics-addr", flags.metrics_address,
                    "HOST:PORT serving /metrics and /healthz; port 0 picks a free port")
        ->envname("IMGBUS_METRICS_ADDR")
        ->capture_default_str();
    command.add_option("--log-level", flags.log_level, "trace, debug, info, warn or error")
        ->envname("IMGBUS_LOG_LEVEL")
        ->check(CLI::IsMember(kLogLevels))
        ->capture_default_str();
}

[[noreturn]] void fail(const std::string& message) {
    spdlog::error("{}", message);
    spdlog::default_logger()->flush();
    throw CLI::RuntimeError(1);
}

// The store key pair: flags or variables, else the credentials file. Never logs the secret.
std::optional<s3::Credentials> store_credentials(const WorkerFlags& flags) {
    if (!flags.access_key.empty() && !flags.secret_key.empty()) {
        return s3::Credentials{flags.access_key, flags.secret_key};
    }
    if (!flags.access_key.empty() || !flags.secret_key.empty()) {
        fail(
            "give both --access-key and --secret-key (or IMGBUS_ACCESS_KEY and "
            "IMGBUS_SECRET_KEY), or use --credentials-file");
    }
    if (flags.credentials_file.empty()) return std::nullopt;
    auto read = read_credentials_file(flags.credentials_file);
    if (!read) fail(read.error().message);
    return *read;
}

worker::WorkerOptions pool_options(const WorkerFlags& flags) {
    worker::WorkerOptions options;
    options.workers = flags.workers;
    options.prefetch = flags.prefetch;
    options.max_threads_per_job = flags.max_threads;
    options.max_passes_per_job = flags.max_passes;
    options.decode_limits.max_pixels = flags.max_pixels;
    options.max_attempts = flags.max_attempts;
    return options;
}

// The worker's view of its store: an empty reason while the store responds, else why not ready.
class StoreState {
  public:
    void set(std::string problem) {
        std::lock_guard lock{mutex_};
        problem_ = std::move(problem);
    }
    std::string problem() const {
        std::lock_guard lock{mutex_};
        return problem_;
    }

  private:
    mutable std::mutex mutex_;
    std::string problem_;
};

struct StoreCheck {
    bool ready = false;
    std::string fatal;    // a fault that waiting cannot cure: the worker must not start
    std::string problem;  // why the store is not ready yet
};

// Lists the buckets once, so the store must respond and accept the key pair. A key without the
// right to list buckets is accepted, because jobs need only their own buckets.
StoreCheck check_store(store::ObjectStore& store, const std::string& url) {
    auto listed = store.list_buckets();
    if (listed) return {true, {}, {}};
    const auto& error = listed.error();
    if (error.code == store::Errc::invalid_credentials) {
        return {false,
                fmt::format("the store {} refused the key pair: {}; give the store's access key "
                            "and secret key in IMGBUS_ACCESS_KEY and IMGBUS_SECRET_KEY or "
                            "--credentials-file",
                            url, error.message),
                {}};
    }
    if (error.code == store::Errc::invalid_request) {
        return {false,
                fmt::format("the store {} cannot be used: {}; fix --store", url, error.message),
                {}};
    }
    if (error.code == store::Errc::io_error) {
        return {false, {}, "store " + url + " not reachable: " + error.message};
    }
    module_logger("cli")->warn(
        "the store {} refused to list buckets ({}); starting anyway, since jobs need only their "
        "own buckets",
        url, error.message);
    return {true, {}, {}};
}

// Checks the store again with back-off until it responds. Returns false on a signal or a fatal
// fault, which is then stored in `fatal`.
bool wait_for_store(store::ObjectStore& store, const std::string& url, StoreState& state,
                    const std::shared_future<int>& stopped, std::string& fatal) {
    auto log = module_logger("cli");
    auto pause = std::chrono::seconds(1);
    while (true) {
        log->warn(
            "{}; the worker takes no jobs and /healthz answers 503 until it answers, checking "
            "again in {} s",
            state.problem(), pause.count());
        if (stopped.wait_for(pause) == std::future_status::ready) return false;
        pause = std::min(pause * 2, std::chrono::seconds(30));
        auto check = check_store(store, url);
        if (!check.fatal.empty()) {
            fatal = check.fatal;
            return false;
        }
        state.set(check.problem);
        if (check.ready) {
            log->info("store {} answers; starting the workers", url);
            return true;
        }
    }
}

// Starts the pool once the broker is up; a start that fails because the connection dropped
// meanwhile is tried again.
bool start_pool(worker::WorkerPool& pool, amqp::RemoteBroker& broker,
                const std::function<bool()>& stop_requested) {
    auto log = module_logger("cli");
    while (true) {
        if (!wait_for_broker(broker, stop_requested)) return false;
        auto started = pool.start();
        if (started) return true;
        if (started.error().code != broker::Errc::unavailable) {
            fail("cannot start the workers: " + started.error().message);
        }
        log->warn("starting the workers failed, trying again: {}", started.error().message);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

void run_worker(const WorkerFlags& flags) {
    setup_logging(flags.log_level);
    auto log = module_logger("cli");
    if (flags.workers < 1) {
        fail("--workers 0 (or IMGBUS_WORKERS=0) leaves imgbus worker nothing to do; give 1 to 256");
    }
    const auto metrics_endpoint = parse_endpoint(flags.metrics_address);
    if (!metrics_endpoint) fail(metrics_endpoint.error().message);
    const auto credentials = store_credentials(flags);
    if (!credentials) {
        fail(
            "no store credentials: pass --credentials-file, or set IMGBUS_ACCESS_KEY and "
            "IMGBUS_SECRET_KEY");
    }
    // The store's request signatures need libcrypto; fail before connecting to anything.
    if (auto crypto = dynload::load_libcrypto(); !crypto) fail(crypto.error().message);
    s3::ClientOptions store_options;
    store_options.stall_timeout = std::chrono::seconds(flags.store_timeout);
    auto store = s3::open_s3_store(flags.store_url, *credentials, store_options);
    if (!store) fail(store.error().message);
    const auto first_check = check_store(**store, flags.store_url);
    if (!first_check.fatal.empty()) fail(first_check.fatal);
    StoreState store_state;
    store_state.set(first_check.problem);

    metrics::Metrics metrics;
    attach_log_error_counter(metrics.log_errors_total());
    auto broker = open_remote_broker(flags.broker_url, credentials, metrics);
    if (!broker) fail(broker.error().message);
    auto& remote = **broker;

    boost::asio::io_context io(1);
    MetricsServer metrics_server(io, {.metrics = [&metrics] { return metrics.serialize(); },
                                      .health =
                                          [&remote, &store_state] {
                                              if (!remote.connected())
                                                  return "broker " + remote.describe() +
                                                         " disconnected";
                                              return store_state.problem();
                                          }});
    auto bound = metrics_server.start(metrics_endpoint->host, metrics_endpoint->port);
    if (!bound) fail(bound.error().message);

    std::promise<int> stop;
    auto stopped = stop.get_future().share();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& error, int number) {
        if (!error) stop.set_value(number);
    });
    std::jthread io_thread([&io] { io.run(); });
    log->info("imgbus worker: broker {}, store {}, {} workers, prefetch {}, max {} attempts",
              remote.describe(), flags.store_url, flags.workers, flags.prefetch,
              flags.max_attempts);
    log->info("metrics listening on http://{}/metrics",
              format_endpoint(bound->address().to_string(), bound->port()));

    auto stop_requested = [&stopped] {
        return stopped.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    };
    std::string fatal;
    const bool store_ready =
        first_check.ready || wait_for_store(**store, flags.store_url, store_state, stopped, fatal);
    worker::WorkerPool pool(remote, **store, metrics, pool_options(flags));
    if (store_ready && start_pool(pool, remote, stop_requested)) stopped.wait();
    if (fatal.empty()) {
        log->info("received signal {}; stopping workers after their current jobs", stopped.get());
    }
    pool.stop();
    broker->reset();
    metrics_server.stop();
    io.stop();
    io_thread.join();
    if (!fatal.empty()) fail(fatal);
    log->info("imgbus worker stopped");
    spdlog::default_logger()->flush();
}

}  // namespace

void register_worker(CLI::App& app) {
    auto flags = std::make_shared<WorkerFlags>();
    auto* command = app.add_subcommand(
        "worker", "Process jobs from an external broker (RabbitMQ or imgbus serve) and S3 store");
    add_worker_flags(*command, *flags);
    command->callback([flags] { run_worker(*flags); });
}

}  // namespace imgbus::cli
