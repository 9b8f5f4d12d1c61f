// SPDX-License-Identifier: MIT
#include "imgbus/worker/worker_pool.hpp"

#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "delivery_channel.hpp"
#include "delivery_processor.hpp"
#include "imgbus/log.hpp"

namespace imgbus::worker {
namespace {

constexpr int kMaxWorkers = 1024;
// AMQP 0-9-1 carries prefetch-count in 16 bits.
constexpr std::uint32_t kMaxPrefetch = 65'535;
// How long a worker waits for its next job before it returns freed memory to the system.
constexpr std::chrono::milliseconds kIdleBeforeRelease{200};

// glibc keeps what a job freed (its image buffers, tens of MB for a large image) in its malloc
// arenas for reuse, so the process's RSS stays at its peak after a burst. Trimming every arena
// once the worker is idle gives that memory back; under steady load it is never called, so the
// buffers are reused without new page faults.
void release_free_memory() {
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}

std::string host_name() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') {
        return "localhost";
    }
    return buffer;
}

Result<void> check_options(const WorkerOptions& options) {
    auto invalid = [](std::string message) {
        return Error{std::make_error_code(std::errc::invalid_argument), std::move(message)};
    };
    if (options.workers < 0 || options.workers > kMaxWorkers) {
        return invalid("worker count " + std::to_string(options.workers) + " is outside 0.." +
                       std::to_string(kMaxWorkers) + "; pass --workers within that range");
    }
    if (options.prefetch < 1 || options.prefetch > kMaxPrefetch) {
        return invalid("worker prefetch " + std::to_string(options.prefetch) + " is outside 1.." +
                       std::to_string(kMaxPrefetch) + "; pass --prefetch within that range");
    }
    if (options.max_threads_per_job < 1 || options.max_passes_per_job < 1) {
        return invalid("max threads per job (" + std::to_string(options.max_threads_per_job) +
                       ") and max passes per job (" + std::to_string(options.max_passes_per_job) +
                       ") must both be at least 1");
    }
    if (options.max_attempts < 1 || options.max_attempts > 100) {
        return invalid("max attempts " + std::to_string(options.max_attempts) +
                       " is outside 1..100; pass --max-attempts within that range");
    }
    return {};
}

// One consumer of the job queue and the thread that works off its deliveries.
struct Worker {
    std::string name;
    std::shared_ptr<detail::DeliveryChannel> channel;
    std::string consumer_tag;
    std::thread thread;
};

}  // namespace

struct WorkerPool::Impl {
    Impl(broker::Broker& broker, store::ObjectStore& store, metrics::Metrics& metrics,
         WorkerOptions options)
        : broker(broker),
          store(store),
          metrics(metrics),
          options(std::move(options)),
          log(module_logger("worker")) {}

    Result<void> start_worker(int index);
    void stop_locked();

    broker::Broker& broker;
    store::ObjectStore& store;
    metrics::Metrics& metrics;
    const WorkerOptions options;
    std::shared_ptr<spdlog::logger> log;

    std::mutex lifecycle;  // serialises start() and stop()
    std::vector<std::unique_ptr<Worker>> workers;
    std::atomic<int> running{0};
};

Result<void> WorkerPool::Impl::start_worker(int index) {
    auto worker = std::make_unique<Worker>();
    worker->name = host_name() + "/" + std::to_string(::getpid()) + "/w" + std::to_string(index);
    worker->channel = std::make_shared<detail::DeliveryChannel>(options.prefetch);

    worker->thread = std::thread([this, channel = worker->channel, name = worker->name] {
        detail::DeliveryProcessor processor{broker, store, metrics, options, name};
        while (auto delivery = channel->pop(kIdleBeforeRelease, release_free_memory)) {
            processor.handle(*delivery);
        }
    });

    // The handler captures the channel, not the Worker, because the broker may still call it after
    // cancel() returns; a closed channel drops the delivery and the broker has requeued it.
    auto handler = [channel = worker->channel, &broker = broker, log = log,
                    name = worker->name](broker::Delivery delivery) {
        const auto tag = delivery.delivery_tag;
        if (channel->push(std::move(delivery)) != detail::DeliveryChannel::PushResult::full) {
            return;
        }
        log->error("{}: broker delivered over the prefetch limit; requeueing delivery tag {}", name,
                   tag);
        (void)broker.nack(tag, true);
    };
    auto consumer = broker.consume(options.job_queue, options.prefetch, std::move(handler));
    if (!consumer) {
        worker->channel->close();
        worker->thread.join();
        return consumer.error();
    }
    worker->consumer_tag = std::move(*consumer);
    workers.push_back(std::move(worker));
    running = static_cast<int>(workers.size());
    return {};
}

void WorkerPool::Impl::stop_locked() {
    if (workers.empty()) {
        return;
    }
    log->info("stopping {} workers; each finishes its current job", workers.size());

    // Close first, so that no worker takes another job, then wait for the current ones to be
    // acked or nacked. Only then cancel: cancelling earlier would requeue the jobs in progress.
    for (auto& worker : workers) {
        worker->channel->close();
    }
    for (auto& worker : workers) {
        worker->thread.join();
    }

    std::size_t returned = 0;
    for (auto& worker : workers) {
        returned += worker->channel->size();
        if (auto cancelled = broker.cancel(worker->consumer_tag); !cancelled) {
            log->warn("{}: cancelling consumer {} failed: {}", worker->name, worker->consumer_tag,
                      cancelled.error().message);
        }
    }
    workers.clear();
    running = 0;
    log->info("workers stopped; {} buffered deliveries returned to {}", returned,
              options.job_queue);
}

WorkerPool::WorkerPool(broker::Broker& broker, store::ObjectStore& store, metrics::Metrics& metrics,
                       WorkerOptions options)
    : impl_(std::make_unique<Impl>(broker, store, metrics, std::move(options))) {}

WorkerPool::~WorkerPool() { stop(); }

Result<void> WorkerPool::start() {
    std::lock_guard lock{impl_->lifecycle};
    const auto& options = impl_->options;
    if (!impl_->workers.empty() || options.workers == 0) {
        return {};
    }
    if (auto checked = check_options(options); !checked) {
        return checked;
    }
    const std::pair<std::string, broker::QueueOptions> queues[] = {
        {options.job_queue, job_queue_options(options.job_queue_max_length)},
        {options.event_queue, event_queue_options(options.job_queue_max_length)},
        {options.dead_letter_queue, dead_letter_queue_options()}};
    for (const auto& [queue, queue_options] : queues) {
        auto ensured = ensure_queue(impl_->broker, queue, queue_options);
        if (!ensured) {
            impl_->log->error("declaring queue {} failed: {}", queue, ensured.error().message);
            return ensured.error();
        }
        if (!ensured->empty()) impl_->log->warn("{}", *ensured);
    }
    for (int index = 0; index < options.workers; ++index) {
        if (auto started = impl_->start_worker(index); !started) {
            impl_->log->error("starting worker {} on {} failed: {}", index, options.job_queue,
                              started.error().message);
            impl_->stop_locked();
            return started;
        }
    }
    impl_->log->info("started {} workers on {} (prefetch {}, max {} threads per job)",
                     options.workers, options.job_queue, options.prefetch,
                     options.max_threads_per_job);
    return {};
}

void WorkerPool::stop() {
    std::lock_guard lock{impl_->lifecycle};
    impl_->stop_locked();
}

Result<void> WorkerPool::restart() {
    stop();
    return start();
}

int WorkerPool::running_workers() const { return impl_->running; }

const WorkerOptions& WorkerPool::options() const { return impl_->options; }

}  // namespace imgbus::worker
