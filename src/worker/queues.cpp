// SPDX-License-Identifier: MIT
#include "imgbus/worker/queues.hpp"

#include <algorithm>

namespace imgbus::worker {

broker::QueueOptions job_queue_options(std::size_t max_length) {
    broker::QueueOptions options;
    options.max_length_messages = max_length;
    options.overflow = broker::Overflow::reject_publish;
    options.durable = true;
    return options;
}

broker::QueueOptions event_queue_options(std::size_t job_max_length) {
    broker::QueueOptions options;
    options.max_length_messages = std::max<std::size_t>(job_max_length * 4, 100'000);
    options.overflow = broker::Overflow::reject_publish;
    options.durable = true;
    return options;
}

broker::QueueOptions dead_letter_queue_options() {
    broker::QueueOptions options;
    options.max_length_messages = 100'000;
    options.overflow = broker::Overflow::drop_head;
    options.durable = true;
    return options;
}

Result<std::string> ensure_queue(broker::Broker& broker, const std::string& queue,
                                 const broker::QueueOptions& options) {
    auto declared = broker.declare_queue(queue, options);
    if (declared) return std::string{};
    if (declared.error().code == broker::Errc::queue_exists_with_other_options) {
        return "keeping queue " + queue + " as it exists: " + declared.error().message;
    }
    return declared.error();
}

}  // namespace imgbus::worker
