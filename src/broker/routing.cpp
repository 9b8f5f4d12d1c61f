// SPDX-License-Identifier: MIT
#include "routing.hpp"

#include <string>
#include <vector>

namespace imgbus::broker {

namespace {

// "" has no words; otherwise every '.' separates two words, which may be empty.
std::vector<std::string_view> split_words(std::string_view key) {
    std::vector<std::string_view> words;
    if (key.empty()) return words;
    std::size_t start = 0;
    for (;;) {
        std::size_t dot = key.find('.', start);
        if (dot == std::string_view::npos) {
            words.push_back(key.substr(start));
            return words;
        }
        words.push_back(key.substr(start, dot - start));
        start = dot + 1;
    }
}

}  // namespace

TopicMatcher::TopicMatcher(std::string_view routing_key)
    : routing_key_(routing_key),
      words_(split_words(routing_key)),
      reachable_(words_.size() + 1),
      next_(words_.size() + 1) {}

// Dynamic programming over (binding words used, routing words used), so that many '#' cost
// O(n*m) instead of backtracking. reachable_[j]: the binding words so far can match the first j
// routing words.
bool TopicMatcher::matches(std::string_view binding_key) {
    if (binding_key.find_first_of("*#") == std::string_view::npos) {
        return binding_key == routing_key_;
    }
    std::fill(reachable_.begin(), reachable_.end(), 0);
    reachable_[0] = 1;
    std::size_t start = 0;
    while (start <= binding_key.size()) {
        std::size_t dot = binding_key.find('.', start);
        if (dot == std::string_view::npos) dot = binding_key.size();
        const std::string_view part = binding_key.substr(start, dot - start);
        for (std::size_t j = 0; j <= words_.size(); ++j) {
            if (part == "#") {
                // Zero words from here, or one more word after a reachable prefix.
                next_[j] = reachable_[j] || (j > 0 && next_[j - 1]);
            } else {
                next_[j] = j > 0 && reachable_[j - 1] && (part == "*" || part == words_[j - 1]);
            }
        }
        std::swap(reachable_, next_);
        start = dot + 1;
    }
    return reachable_[words_.size()] != 0;
}

bool topic_matches(std::string_view binding_key, std::string_view routing_key) {
    return TopicMatcher(routing_key).matches(binding_key);
}

bool headers_match(const FieldTable& binding_arguments, const FieldTable& headers) {
    bool match_any = false;
    if (const FieldValue* mode = binding_arguments.find("x-match")) {
        const std::string* text = as_string(*mode);
        match_any = text != nullptr && (*text == "any" || *text == "any-with-x");
    }
    for (const FieldEntry& entry : binding_arguments.entries()) {
        if (entry.name.starts_with("x-")) {
            continue;
        }
        const FieldValue* value = headers.find(entry.name);
        const bool equal =
            value != nullptr &&
            (std::holds_alternative<std::monostate>(entry.value.value) || *value == entry.value);
        if (match_any && equal) return true;
        if (!match_any && !equal) return false;
    }
    return !match_any;
}

}  // namespace imgbus::broker
