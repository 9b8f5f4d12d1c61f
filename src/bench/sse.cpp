// SPDX-License-Identifier: MIT
#include "sse.hpp"

namespace imgbus::bench {

void SseParser::feed(std::string_view bytes) {
    pending_.append(bytes);
    std::size_t start = 0;
    while (true) {
        const auto end = pending_.find_first_of("\r\n", start);
        if (end == std::string::npos) {
            break;
        }
        // A CR at the very end may be the first half of CRLF; wait for the next byte.
        if (pending_[end] == '\r' && end + 1 == pending_.size()) {
            break;
        }
        take_line(std::string_view(pending_).substr(start, end - start));
        const bool crlf = pending_[end] == '\r' && pending_[end + 1] == '\n';
        start = end + (crlf ? 2 : 1);
    }
    pending_.erase(0, start);
}

std::optional<SseEvent> SseParser::next() {
    if (ready_.empty()) {
        return std::nullopt;
    }
    SseEvent event = std::move(ready_.front());
    ready_.pop_front();
    return event;
}

void SseParser::take_line(std::string_view line) {
    if (line.empty()) {
        if (has_data_) {
            ready_.push_back(std::move(current_));
        }
        current_ = SseEvent{};
        has_data_ = false;
        return;
    }
    if (line.front() == ':') {
        return;
    }
    const auto colon = line.find(':');
    const auto field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
    }
    if (field == "event") {
        current_.event = value.empty() ? "message" : std::string(value);
    } else if (field == "data") {
        if (has_data_) {
            current_.data.push_back('\n');
        }
        current_.data.append(value);
        has_data_ = true;
    }
}

}  // namespace imgbus::bench
