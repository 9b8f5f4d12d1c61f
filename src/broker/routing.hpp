// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

#include "imgbus/broker/field_table.hpp"

namespace imgbus::broker {

// RabbitMQ's topic match: both keys are split at '.' into words; "" has no words and "a..b" has
// an empty middle word. '*' in the binding key matches exactly one word and '#' zero or more.
bool topic_matches(std::string_view binding_key, std::string_view routing_key);

// The headers exchange: x-match "all" (default) needs every binding argument that does not start
// with "x-" to be present in `headers` with an equal value (void matches any value); "any" needs
// one of them.
bool headers_match(const FieldTable& binding_arguments, const FieldTable& headers);

}  // namespace imgbus::broker
