// SPDX-License-Identifier: MIT
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace imgbus::bench {

// One server-sent event: its type ("message" when the server named none) and its data, with
// several data lines joined by '\n'.
struct SseEvent {
    std::string event = "message";
    std::string data;
};

// Incremental parser of a text/event-stream body (the WHATWG HTML event-stream format): feed it
// bytes as they arrive and take the complete events. Comment lines (": ...") are skipped, and the
// id and retry fields are ignored.
class SseParser {
  public:
    void feed(std::string_view bytes);
    std::optional<SseEvent> next();

  private:
    void take_line(std::string_view line);

    std::string pending_;  // bytes after the last line break
    SseEvent current_;
    bool has_data_ = false;
    std::deque<SseEvent> ready_;
};

}  // namespace imgbus::bench
