// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "imgbus/broker/broker.hpp"

namespace imgbus::broker {

// Checks the typed fields and the x-arguments of `options` and folds the arguments into the
// typed fields, so that the broker reads only those. Fails with invalid_argument naming the
// argument, its value and the accepted range.
Result<QueueOptions> effective_queue_options(const std::string& queue, QueueOptions options);

// The first setting in which `requested` differs from `existing`, named as RabbitMQ names it
// ("x-max-length = 10 (requested 20)"), or an empty string when they are equivalent.
std::string describe_queue_mismatch(const QueueOptions& existing, const QueueOptions& requested);

}  // namespace imgbus::broker
