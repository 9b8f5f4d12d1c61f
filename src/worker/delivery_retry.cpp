// SPDX-License-Identifier: MIT
// Retries of jobs whose store failed, and the dead-letter queue once the tries run out.
#include <algorithm>
#include <thread>

#include "delivery_processor.hpp"

namespace imgbus::worker::detail {
namespace {

// The pause before try n + 1: 1 s doubling per try, at most 10 s, so that a store restarting
// for a few seconds does not use up every try.
std::chrono::milliseconds retry_pause(int attempt) {
    const int doublings = std::clamp(attempt - 1, 0, 4);
    return std::min(std::chrono::milliseconds{1000 << doublings},
                    std::chrono::milliseconds{10'000});
}

}  // namespace

int attempt_of(const broker::Message& message) {
    const auto* field = message.headers.find(kAttemptHeader);
    if (field == nullptr) return 1;
    const auto attempt = std::visit(
        [](const auto& value) -> long long {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                return static_cast<long long>(value);
            } else {
                return 1;
            }
        },
        field->value);
    return static_cast<int>(std::clamp<long long>(attempt, 1, 1'000'000));
}

void DeliveryProcessor::retry_later(const broker::Delivery& delivery, const JobEvent& event,
                                    int attempt) {
    const auto tag = delivery.delivery_tag;
    const auto pause = retry_pause(attempt);
    log_->warn("{}: job {} failed on try {} of {}, trying again in {} ms: {}", worker_name_,
               event.id, attempt, options_.max_attempts, pause.count(), event.error);
    std::this_thread::sleep_for(pause);

    broker::Message again = delivery.message;
    again.headers.set(kAttemptHeader, static_cast<std::int32_t>(attempt + 1));
    if (auto published = broker_.publish(options_.job_queue, std::move(again)); !published) {
        // The try is not counted then; the broker keeps the job until the broker itself is back.
        log_->error("{}: publishing job {} again to {} failed, so it is requeued as it was: {}",
                    worker_name_, event.id, options_.job_queue, published.error().message);
        if (auto nacked = broker_.nack(tag, true); !nacked) {
            log_->error("{}: requeueing job {} (delivery tag {}) failed: {}", worker_name_,
                        event.id, tag, nacked.error().message);
        }
        return;
    }
    if (auto acked = broker_.ack(tag); !acked) {
        // The broker redelivers the old message too; the job then runs twice into the same key.
        log_->error("{}: ack of job {} (delivery tag {}) after publishing it again failed: {}",
                    worker_name_, event.id, tag, acked.error().message);
    }
}

void DeliveryProcessor::dead_letter(const broker::Delivery& delivery, JobEvent& event,
                                    int attempt) {
    event.error += " (failed on all " + std::to_string(attempt) + " tries; the job is in " +
                   options_.dead_letter_queue + ")";
    broker::Message dead = delivery.message;
    dead.headers.set(kAttemptHeader, static_cast<std::int32_t>(attempt));
    dead.headers.set(kErrorHeader, event.error);
    if (auto published = broker_.publish(options_.dead_letter_queue, std::move(dead)); !published) {
        log_->error("{}: publishing job {} to {} failed, so the job message is dropped: {}",
                    worker_name_, event.id, options_.dead_letter_queue, published.error().message);
        return;
    }
    log_->error("{}: job {} moved to {} after {} tries: {}", worker_name_, event.id,
                options_.dead_letter_queue, attempt, event.error);
}

}  // namespace imgbus::worker::detail
