// SPDX-License-Identifier: MIT
// The public side of the rabbitmq-c client: each method hands its work to the I/O thread.
#include "remote_broker.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include "imgbus/log.hpp"

namespace imgbus::amqp::client {
namespace {

// How long a caller waits for the I/O thread to run its command. The thread blocks at most for
// one connect or RPC, each bounded by ClientOptions::connect_timeout.
std::chrono::milliseconds command_timeout(const ClientOptions& options) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options.connect_timeout) * 2 +
           std::chrono::seconds(1);
}

}  // namespace

RemoteBrokerImpl::RemoteBrokerImpl(const RabbitmqLibrary& rabbitmq, BrokerUrl url,
                                   ClientOptions options)
    : rabbitmq_(rabbitmq),
      url_(std::move(url)),
      options_(std::move(options)),
      description_(redacted_url(url_)),
      log_(module_logger("amqp")) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    io_thread_ = std::thread([this] { io_main(); });
}

RemoteBrokerImpl::~RemoteBrokerImpl() {
    stopping_ = true;
    post([] {});
    changed_.notify_all();
    if (io_thread_.joinable()) io_thread_.join();
    ::close(wake_fd_);
}

bool RemoteBrokerImpl::wait_connected(std::chrono::milliseconds timeout) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, timeout, [this] { return connected_ || stopping_; }) &&
           connected_;
}

Error RemoteBrokerImpl::unavailable(const std::string& what) const {
    return broker::make_error(broker::Errc::unavailable,
                              what + ": the connection to the broker " + description_ +
                                  " is down; it reconnects on its own, retry later");
}

bool RemoteBrokerImpl::post(Command command) {
    {
        std::lock_guard lock{mutex_};
        commands_.push_back(std::move(command));
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
    changed_.notify_all();
    return true;
}

template <class T>
Result<T> RemoteBrokerImpl::run(std::function<Result<T>()> work, bool while_disconnected) {
    if (std::this_thread::get_id() == io_thread_id_.load()) return work();
    if (!connected_ && !while_disconnected) return unavailable("the request was not sent");
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    if (!post([promise, work = std::move(work)] { promise->set_value(work()); })) {
        return unavailable("the client is stopping");
    }
    if (future.wait_for(command_timeout(options_)) != std::future_status::ready) {
        return unavailable("no answer from the client's I/O thread in time");
    }
    return future.get();
}

Result<void> RemoteBrokerImpl::declare_queue(const std::string& queue,
                                             const broker::QueueOptions& options) {
    // While disconnected the queue is noted and declared when the connection comes up, as after
    // a reconnect; a queue noted earlier keeps its options.
    return run<void>(
        [this, queue, options]() -> Result<void> {
            if (conn_ == nullptr) {
                queues_.try_emplace(queue, options);
                return {};
            }
            return io_declare(queue, options);
        },
        true);
}

Result<void> RemoteBrokerImpl::delete_queue(const std::string& queue) {
    return run<void>([this, queue] { return io_delete(queue); });
}

Result<void> RemoteBrokerImpl::publish(const std::string& queue, broker::Message message) {
    auto confirm = std::make_shared<std::promise<Result<void>>>();
    auto confirmed = confirm->get_future();
    const bool on_io_thread = std::this_thread::get_id() == io_thread_id_.load();
    auto sent = run<void>([this, queue, message = std::move(message), confirm] {
        return io_publish(queue, message, confirm);
    });
    // On the I/O thread the confirm cannot arrive while this call waits; it is not awaited.
    if (!sent || on_io_thread) return sent;
    if (confirmed.wait_for(options_.confirm_timeout) != std::future_status::ready) {
        return unavailable("the broker did not confirm the message to " + queue + " within " +
                           std::to_string(options_.confirm_timeout.count()) + " s");
    }
    return confirmed.get();
}

Result<std::string> RemoteBrokerImpl::consume(const std::string& queue, std::uint32_t prefetch,
                                              broker::DeliveryHandler handler) {
    return run<std::string>(
        [this, queue, prefetch, handler = std::move(handler)]() mutable -> Result<std::string> {
            Consumer consumer{.tag = "imgbus-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(next_consumer_++),
                              .queue = queue,
                              .prefetch = prefetch,
                              .handler = std::move(handler)};
            // While disconnected the consumer starts when the connection comes up.
            if (conn_ != nullptr) {
                if (auto started = io_start_consumer(consumer); !started) return started.error();
            }
            auto tag = consumer.tag;
            consumers_.emplace(tag, std::move(consumer));
            return tag;
        },
        true);
}

Result<void> RemoteBrokerImpl::cancel(const std::string& consumer_tag) {
    if (!connected_) {
        // Forget it anyway, so that a reconnect does not start it again.
        post([this, consumer_tag] { (void)io_cancel(consumer_tag); });
        return {};
    }
    return run<void>([this, consumer_tag] { return io_cancel(consumer_tag); });
}

Result<void> RemoteBrokerImpl::settle(std::uint64_t delivery_tag, Settle how, bool requeue) {
    return run<void>(
        [this, delivery_tag, how, requeue] { return io_settle(delivery_tag, how, requeue); });
}

Result<void> RemoteBrokerImpl::ack(std::uint64_t delivery_tag) {
    return settle(delivery_tag, Settle::ack, false);
}

Result<void> RemoteBrokerImpl::nack(std::uint64_t delivery_tag, bool requeue) {
    return settle(delivery_tag, Settle::nack, requeue);
}

Result<void> RemoteBrokerImpl::reject(std::uint64_t delivery_tag, bool requeue) {
    return settle(delivery_tag, Settle::reject, requeue);
}

Result<std::size_t> RemoteBrokerImpl::purge(const std::string& queue) {
    return run<std::size_t>([this, queue] { return io_purge(queue); });
}

Result<broker::QueueStats> RemoteBrokerImpl::queue_stats(const std::string& queue) {
    return run<broker::QueueStats>([this, queue] { return io_queue_stats(queue); });
}

std::vector<broker::QueueStats> RemoteBrokerImpl::list_queues() {
    auto names = run<std::vector<std::string>>([this]() -> Result<std::vector<std::string>> {
        std::vector<std::string> known;
        for (const auto& [name, options] : queues_) known.push_back(name);
        return known;
    });
    std::vector<broker::QueueStats> stats;
    if (!names) return stats;
    for (const auto& name : *names) {
        if (auto one = queue_stats(name)) stats.push_back(std::move(*one));
    }
    return stats;
}

}  // namespace imgbus::amqp::client

namespace imgbus::amqp {

Result<std::unique_ptr<RemoteBroker>> open_remote_broker(BrokerUrl url, ClientOptions options) {
    if (url.username.empty()) {
        return broker::make_error(broker::Errc::invalid_argument,
                                  "no user for the broker " + redacted_url(url) +
                                      "; put it in the URL or set IMGBUS_BROKER_USER");
    }
    const auto rabbitmq = client::load_rabbitmq();
    if (!rabbitmq) {
        return broker::make_error(broker::Errc::not_supported, "cannot reach " + redacted_url(url) +
                                                                   ": " + rabbitmq.error().message);
    }
    return std::unique_ptr<RemoteBroker>(
        std::make_unique<client::RemoteBrokerImpl>(**rabbitmq, std::move(url), std::move(options)));
}

}  // namespace imgbus::amqp
