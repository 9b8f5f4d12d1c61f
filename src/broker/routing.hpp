// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>
#include <vector>

#include "imgbus/broker/field_table.hpp"

namespace imgbus::broker {

// RabbitMQ's topic match: both keys are split at '.' into words; "" has no words and "a..b" has
// an empty middle word. '*' in the binding key matches exactly one word and '#' zero or more.
bool topic_matches(std::string_view binding_key, std::string_view routing_key);

// Matches one routing key against many binding keys: the key is split once and the buffers are
// reused, so a match allocates nothing.
class TopicMatcher {
  public:
    explicit TopicMatcher(std::string_view routing_key);
    bool matches(std::string_view binding_key);

  private:
    std::string_view routing_key_;
    std::vector<std::string_view> words_;
    std::vector<char> reachable_;
    std::vector<char> next_;
};

// Matches for the headers exchange. With x-match "all" (the default) every binding argument
// that does not start with "x-" must be in `headers` with an equal value, and a void argument
// matches any value. With "any" one such argument is enough.
bool headers_match(const FieldTable& binding_arguments, const FieldTable& headers);

}  // namespace imgbus::broker
