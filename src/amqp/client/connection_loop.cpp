// SPDX-License-Identifier: MIT
// The I/O thread of the rabbitmq-c client: connect, reconnect with back-off, and the loop that
// runs commands and reads frames. See remote_broker.hpp for the threading rules.
#include <poll.h>
#include <unistd.h>

#include "amqp_tables.hpp"
#include "remote_broker.hpp"

namespace imgbus::amqp::client {
namespace {

constexpr int kFrameMaxBytes = 131'072;
// The longest the loop sleeps in poll(), so that heartbeats go out in time and stop is seen.
constexpr int kPollMillis = 200;

timeval to_timeval(std::chrono::seconds seconds) {
    return timeval{static_cast<time_t>(seconds.count()), 0};
}

std::string library_error(const RabbitmqLibrary& rabbitmq, int status) {
    return rabbitmq.error_string2(status);
}

// The reason in an RPC reply that is not normal, for log lines.
std::string describe_reply(const RabbitmqLibrary& rabbitmq, const amqp_rpc_reply_t& reply) {
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
        return library_error(rabbitmq, reply.library_error);
    }
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
        return std::to_string(close->reply_code) + " " + to_string(close->reply_text);
    }
    return "unexpected reply";
}

}  // namespace

void RemoteBrokerImpl::io_main() {
    io_thread_id_ = std::this_thread::get_id();
    int attempt = 0;
    while (!stopping_) {
        if (attempt > 0) sleep_before_retry(attempt);
        if (stopping_) break;
        if (auto opened = connect(); !opened) {
            log_->warn("broker {}: connecting failed: {}", description_, opened.error().message);
            ++attempt;
            continue;
        }
        log_->info("broker {}: connected{}", description_,
                   attempt > 0 ? " after " + std::to_string(attempt) + " retries" : "");
        attempt = 0;
        restore();
        {
            std::lock_guard lock{mutex_};
            connected_ = conn_ != nullptr;
        }
        changed_.notify_all();
        pump();
        if (!stopping_) attempt = 1;
    }
    close_gracefully();
    run_commands();  // they fail with unavailable now
}

void RemoteBrokerImpl::run_commands() {
    std::deque<Command> batch;
    {
        std::lock_guard lock{mutex_};
        batch.swap(commands_);
    }
    std::uint64_t drained = 0;
    [[maybe_unused]] auto read = ::read(wake_fd_, &drained, sizeof drained);
    for (auto& command : batch) command();
}

void RemoteBrokerImpl::sleep_before_retry(int attempt) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto delay = backoff_delay(options_.backoff, attempt, unit(random_));
    log_->warn("broker {}: reconnect attempt {} in {} ms", description_, attempt, delay.count());
    if (options_.on_reconnect_attempt) options_.on_reconnect_attempt(attempt);
    const auto deadline = std::chrono::steady_clock::now() + delay;
    while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
        run_commands();
        std::unique_lock lock{mutex_};
        changed_.wait_until(lock, deadline, [this] { return stopping_ || !commands_.empty(); });
    }
}

Result<void> RemoteBrokerImpl::connect() {
    conn_ = rabbitmq_.new_connection();
    auto* socket = rabbitmq_.tcp_socket_new(conn_);
    if (socket == nullptr) {
        rabbitmq_.destroy_connection(conn_);
        conn_ = nullptr;
        return broker::make_error(broker::Errc::unavailable, "creating a socket failed");
    }
    auto timeout = to_timeval(options_.connect_timeout);
    rabbitmq_.set_handshake_timeout(conn_, &timeout);
    rabbitmq_.set_rpc_timeout(conn_, &timeout);
    const int opened =
        rabbitmq_.socket_open_noblock(socket, url_.host.c_str(), url_.port, &timeout);
    if (opened != AMQP_STATUS_OK) {
        rabbitmq_.destroy_connection(conn_);
        conn_ = nullptr;
        // rabbitmq-c keeps no errno for a failed connect, so the text cannot say refused or
        // unreachable.
        return broker::make_error(broker::Errc::unavailable,
                                  "TCP connect to " + url_.host + ":" + std::to_string(url_.port) +
                                      " failed: " + library_error(rabbitmq_, opened) +
                                      "; check that the broker runs at that address");
    }
    amqp_table_entry_t name_entry{};
    name_entry.key = rabbitmq_.cstring_bytes("connection_name");
    name_entry.value.kind = AMQP_FIELD_KIND_UTF8;
    name_entry.value.value.bytes = rabbitmq_.cstring_bytes(options_.connection_name.c_str());
    amqp_table_t properties{1, &name_entry};
    const auto login = rabbitmq_.login_with_properties(
        conn_, url_.vhost.c_str(), 0, kFrameMaxBytes, static_cast<int>(options_.heartbeat.count()),
        &properties, AMQP_SASL_METHOD_PLAIN, url_.username.c_str(), url_.password.c_str());
    if (login.reply_type != AMQP_RESPONSE_NORMAL) {
        // The reply text lives in the connection's memory: copy it before destroying it.
        std::string message = "login as " + url_.username + " to vhost " + url_.vhost +
                              " failed: " + describe_reply(rabbitmq_, login) +
                              "; check the user, password and vhost";
        rabbitmq_.destroy_connection(conn_);
        conn_ = nullptr;
        return broker::make_error(broker::Errc::unavailable, std::move(message));
    }
    ++generation_;
    deliveries_.clear();
    next_publish_seq_ = 1;
    Result<void> ready = open_channel(kControlChannel);
    if (ready) ready = open_channel(kPublishChannel);
    if (ready) {
        rabbitmq_.confirm_select(conn_, kPublishChannel);
        ready = check_reply(kPublishChannel, "confirm.select");
    }
    if (!ready) drop_connection("setting up channels: " + ready.error().message);
    return ready;
}

// Declares the known queues and starts the known consumers on the new connection.
void RemoteBrokerImpl::restore() {
    for (auto it = queues_.begin(); it != queues_.end();) {
        const auto queue = it->first;
        auto declared = io_declare(queue, it->second);
        if (!declared && declared.error().code == broker::Errc::queue_exists_with_other_options) {
            // Noted while disconnected; the queue stays as it exists, as on a connected start.
            log_->warn("broker {}: keeping queue {} as it exists: {}", description_, queue,
                       declared.error().message);
            it = queues_.erase(it);
            continue;
        }
        if (!declared) {
            log_->error("broker {}: declaring {} again failed: {}", description_, queue,
                        declared.error().message);
        }
        ++it;
    }
    for (auto& [tag, consumer] : consumers_) {
        consumer.channel = 0;
        if (conn_ == nullptr) return;
        if (auto started = io_start_consumer(consumer); !started) {
            log_->error("broker {}: consuming {} again as {} failed: {}", description_,
                        consumer.queue, tag, started.error().message);
        }
    }
    if (!consumers_.empty()) {
        log_->info("broker {}: {} consumers resumed", description_, consumers_.size());
    }
}

void RemoteBrokerImpl::pump() {
    while (!stopping_ && conn_ != nullptr) {
        run_commands();
        if (conn_ == nullptr) break;
        if (!rabbitmq_.frames_enqueued(conn_) && !rabbitmq_.data_in_buffer(conn_)) {
            pollfd fds[2] = {{rabbitmq_.get_sockfd(conn_), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
            ::poll(fds, 2, kPollMillis);
        }
        read_available_frames();
    }
}

void RemoteBrokerImpl::read_available_frames() {
    const timeval zero{0, 0};
    while (conn_ != nullptr) {
        amqp_frame_t frame{};
        const int status = rabbitmq_.simple_wait_frame_noblock(conn_, &frame, &zero);
        if (status == AMQP_STATUS_TIMEOUT) break;
        if (status != AMQP_STATUS_OK) {
            drop_connection(library_error(rabbitmq_, status));
            return;
        }
        handle_frame(frame);
    }
    if (conn_ != nullptr) rabbitmq_.maybe_release_buffers(conn_);
}

void RemoteBrokerImpl::handle_frame(const amqp_frame_t& frame) {
    if (frame.frame_type != AMQP_FRAME_METHOD) return;
    const auto channel = frame.channel;
    const void* decoded = frame.payload.method.decoded;
    switch (frame.payload.method.id) {
        case AMQP_BASIC_DELIVER_METHOD:
            handle_delivery(channel, *static_cast<const amqp_basic_deliver_t*>(decoded));
            return;
        case AMQP_BASIC_ACK_METHOD: {
            const auto* ack = static_cast<const amqp_basic_ack_t*>(decoded);
            handle_confirm(ack->delivery_tag, ack->multiple != 0, true);
            return;
        }
        case AMQP_BASIC_NACK_METHOD: {
            const auto* nack = static_cast<const amqp_basic_nack_t*>(decoded);
            handle_confirm(nack->delivery_tag, nack->multiple != 0, false);
            return;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_message_t returned{};
            (void)rabbitmq_.read_message(conn_, channel, &returned, 0);
            rabbitmq_.destroy_message(&returned);
            return;
        }
        case AMQP_BASIC_CANCEL_METHOD: {
            const auto* cancel = static_cast<const amqp_basic_cancel_t*>(decoded);
            log_->error("broker {}: the broker cancelled consumer {} (its queue was deleted?)",
                        description_, to_string(cancel->consumer_tag));
            return;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
            handle_channel_close(channel, *static_cast<const amqp_channel_close_t*>(decoded));
            return;
        case AMQP_CONNECTION_CLOSE_METHOD: {
            // Copy the reason first: drop_connection() frees the memory the frame points into.
            const auto* close = static_cast<const amqp_connection_close_t*>(decoded);
            const std::string reason =
                "the broker closed the connection: " + std::to_string(close->reply_code) + " " +
                to_string(close->reply_text);
            amqp_connection_close_ok_t ok{};
            rabbitmq_.send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
            drop_connection(reason);
            return;
        }
        case AMQP_CONNECTION_BLOCKED_METHOD:
            log_->warn("broker {}: the broker blocked publishing (memory or disk alarm)",
                       description_);
            return;
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            log_->info("broker {}: the broker unblocked publishing", description_);
            return;
        default:
            return;
    }
}

void RemoteBrokerImpl::handle_delivery(amqp_channel_t channel,
                                       const amqp_basic_deliver_t& deliver) {
    // Copy the method frame's fields first, because reading the content frames reuses its memory.
    const std::uint64_t amqp_tag = deliver.delivery_tag;
    const bool redelivered = deliver.redelivered != 0;
    std::string exchange = to_string(deliver.exchange);
    std::string routing_key = to_string(deliver.routing_key);
    amqp_message_t content{};
    const auto read = rabbitmq_.read_message(conn_, channel, &content, 0);
    if (read.reply_type != AMQP_RESPONSE_NORMAL) {
        drop_connection("reading a delivery: " + describe_reply(rabbitmq_, read));
        return;
    }
    broker::Message message = to_message(content.properties, content.body);
    rabbitmq_.destroy_message(&content);

    auto found = channel_consumers_.find(channel);
    if (found == channel_consumers_.end()) return;  // cancelled; the broker requeues it
    auto& consumer = consumers_.at(found->second);
    const auto tag = next_delivery_tag_++;
    deliveries_[tag] = OpenDelivery{generation_, channel, amqp_tag};
    broker::Delivery delivery{.delivery_tag = tag,
                              .queue = consumer.queue,
                              .consumer_tag = consumer.tag,
                              .redelivered = redelivered,
                              .message = std::move(message),
                              .exchange = std::move(exchange),
                              .routing_key = std::move(routing_key)};
    auto handler = consumer.handler;  // the handler may cancel the consumer
    handler(std::move(delivery));
}

void RemoteBrokerImpl::handle_confirm(std::uint64_t tag, bool multiple, bool ack) {
    auto resolve = [&](const ConfirmPromise& promise) {
        if (ack) {
            promise->set_value(Result<void>{});
            return;
        }
        promise->set_value(broker::make_error(
            broker::Errc::queue_full,
            "the broker refused the message (basic.nack): the queue is full (x-overflow "
            "reject-publish) or the broker could not store it; retry later"));
    };
    if (!multiple) {
        if (auto found = confirms_.find(tag); found != confirms_.end()) {
            resolve(found->second);
            confirms_.erase(found);
        }
        return;
    }
    auto end = confirms_.upper_bound(tag);
    for (auto it = confirms_.begin(); it != end; ++it) resolve(it->second);
    confirms_.erase(confirms_.begin(), end);
}

void RemoteBrokerImpl::handle_channel_close(amqp_channel_t channel,
                                            const amqp_channel_close_t& close) {
    const std::string reason = std::to_string(close.reply_code) + " " + to_string(close.reply_text);
    log_->error("broker {}: the broker closed channel {}: {}", description_, channel, reason);
    amqp_channel_close_ok_t ok{};
    rabbitmq_.send_method(conn_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    forget_channel_deliveries(channel);
    if (channel == kPublishChannel) {
        for (auto& [seq, promise] : confirms_) {
            promise->set_value(unavailable("the publish channel was closed (" + reason + ")"));
        }
        confirms_.clear();
        next_publish_seq_ = 1;
        if (open_channel(channel)) {
            rabbitmq_.confirm_select(conn_, channel);
            (void)check_reply(channel, "confirm.select");
        }
        return;
    }
    if (auto found = channel_consumers_.find(channel); found != channel_consumers_.end()) {
        consumers_.at(found->second).channel = 0;
        channel_consumers_.erase(found);
    } else if (channel == kControlChannel) {
        (void)open_channel(channel);
    }
}

void RemoteBrokerImpl::drop_connection(const std::string& reason) {
    if (conn_ == nullptr) return;
    {
        std::lock_guard lock{mutex_};
        connected_ = false;
    }
    if (!stopping_) log_->error("broker {}: connection lost: {}", description_, reason);
    rabbitmq_.destroy_connection(conn_);
    conn_ = nullptr;
    for (auto& [seq, promise] : confirms_) {
        promise->set_value(
            unavailable("the connection was lost before the broker confirmed "
                        "the message (it may or may not be queued)"));
    }
    confirms_.clear();
    deliveries_.clear();
    channel_consumers_.clear();
    for (auto& [tag, consumer] : consumers_) consumer.channel = 0;
}

void RemoteBrokerImpl::close_gracefully() {
    if (conn_ == nullptr) return;
    for (auto& [channel, tag] : channel_consumers_) {
        rabbitmq_.channel_close(conn_, channel, AMQP_REPLY_SUCCESS);
    }
    channel_consumers_.clear();
    rabbitmq_.connection_close(conn_, AMQP_REPLY_SUCCESS);
    drop_connection("stopping");
    log_->info("broker {}: connection closed", description_);
}

}  // namespace imgbus::amqp::client
