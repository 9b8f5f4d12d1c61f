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

// Dynamic programming over (binding words used, routing words used), so that many '#' cost
// O(n*m) instead of backtracking. reachable[j]: the first i binding words can match the first j
// routing words.
bool topic_matches(std::string_view binding_key, std::string_view routing_key) {
    const auto pattern = split_words(binding_key);
    const auto words = split_words(routing_key);
    std::vector<char> reachable(words.size() + 1, 0);
    reachable[0] = 1;
    for (std::string_view part : pattern) {
        std::vector<char> next(words.size() + 1, 0);
        for (std::size_t j = 0; j <= words.size(); ++j) {
            if (part == "#") {
                // Zero words from here, or one more word after a reachable prefix.
                next[j] = reachable[j] || (j > 0 && next[j - 1]);
            } else if (j > 0 && reachable[j - 1]) {
                next[j] = part == "*" || part == words[j - 1];
            }
        }
        reachable = std::move(next);
    }
    return reachable[words.size()] != 0;
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
