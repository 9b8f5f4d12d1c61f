// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "imgbus/broker/broker.hpp"

namespace imgbus::worker {

// Queue that receives jobs that failed on every allowed attempt (see docs/worker.md).
inline constexpr std::string_view kDeadLetterQueue = "imgbus.jobs.dead";
// The job queue's default length limit (imgbus serve --queue-max-length).
inline constexpr std::size_t kDefaultJobQueueLength = 10'000;

// The settings every imgbus process declares the three queues with, so that a frontend and
// workers in other processes, on the embedded broker or on RabbitMQ, agree on them (RabbitMQ
// refuses a declaration whose arguments differ from the existing queue's). All are durable.
// Jobs: `max_length` messages, then publishes are refused (back-pressure, 503 upstream).
broker::QueueOptions job_queue_options(std::size_t max_length);
// Events: four times the job limit and at least 100 000, since a lost event leaves a job shown
// as processing forever.
broker::QueueOptions event_queue_options(std::size_t job_max_length);
// Dead letters: at most 100 000 messages (x-max-length with drop-head), so failures never block.
broker::QueueOptions dead_letter_queue_options();

// Declares `queue`. A queue that already exists with other settings (declared by an older
// version, or with another --queue-max-length) is used as it is, and the returned text explains
// that for the log. Other failures are returned.
Result<std::string> ensure_queue(broker::Broker& broker, const std::string& queue,
                                 const broker::QueueOptions& options);

}  // namespace imgbus::worker
