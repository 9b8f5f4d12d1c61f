// SPDX-License-Identifier: MIT
#include "queue_arguments.hpp"

#include <optional>

namespace imgbus::broker {

namespace {

// The largest accepted max length, so that a typo cannot declare an unbounded queue.
constexpr std::size_t kMaxQueueLengthMessages = 10'000'000;
constexpr std::int64_t kMaxTtlMilliseconds = 0xffffffffLL;

Error bad_argument(const std::string& queue, const std::string& name, const FieldValue& value,
                   const std::string& expected) {
    std::string shown;
    if (auto number = as_integer(value)) {
        shown = std::to_string(*number);
    } else if (const std::string* text = as_string(value)) {
        shown = "'" + *text + "'";
    } else {
        shown = "of type " + std::string(type_name(value));
    }
    return make_error(
        Errc::invalid_argument,
        "invalid arg '" + name + "' " + shown + " for queue '" + queue + "': expected " + expected);
}

Result<std::int64_t> integer_argument(const std::string& queue, const FieldEntry& entry,
                                      std::int64_t low, std::int64_t high) {
    auto number = as_integer(entry.value);
    if (!number || *number < low || *number > high) {
        return bad_argument(
            queue, entry.name, entry.value,
            "an integer from " + std::to_string(low) + " to " + std::to_string(high));
    }
    return *number;
}

Result<std::string> string_argument(const std::string& queue, const FieldEntry& entry) {
    const std::string* text = as_string(entry.value);
    if (text == nullptr) return bad_argument(queue, entry.name, entry.value, "a string");
    return *text;
}

Result<void> apply_argument(const std::string& queue, const FieldEntry& entry,
                            QueueOptions& options) {
    const std::string& name = entry.name;
    if (name == "x-max-length") {
        auto n = integer_argument(queue, entry, 0, kMaxQueueLengthMessages);
        if (!n) return n.error();
        options.max_length_messages = static_cast<std::size_t>(*n);
    } else if (name == "x-max-length-bytes") {
        auto n = integer_argument(queue, entry, 0, std::int64_t{1} << 40);
        if (!n) return n.error();
        options.max_length_bytes = static_cast<std::size_t>(*n);
    } else if (name == "x-message-ttl") {
        auto n = integer_argument(queue, entry, 0, kMaxTtlMilliseconds);
        if (!n) return n.error();
        options.message_ttl = std::chrono::milliseconds(*n);
    } else if (name == "x-max-priority") {
        auto n = integer_argument(queue, entry, 0, 255);
        if (!n) return n.error();
        options.max_priority = static_cast<std::uint8_t>(*n);
    } else if (name == "x-overflow") {
        auto text = string_argument(queue, entry);
        if (!text) return text.error();
        if (*text == "drop-head") {
            options.overflow = Overflow::drop_head;
        } else if (*text == "reject-publish") {
            options.overflow = Overflow::reject_publish;
        } else {
            return bad_argument(queue, name, entry.value, "'drop-head' or 'reject-publish'");
        }
    } else if (name == "x-dead-letter-exchange") {
        auto text = string_argument(queue, entry);
        if (!text) return text.error();
        options.dead_letter_exchange = *text;
    } else if (name == "x-dead-letter-routing-key") {
        auto text = string_argument(queue, entry);
        if (!text) return text.error();
        options.dead_letter_routing_key = *text;
    } else if (name.starts_with("x-")) {
        return bad_argument(queue, name, entry.value,
                            "no such argument; the embedded broker knows x-message-ttl, "
                            "x-max-length, x-max-length-bytes, x-overflow, x-dead-letter-exchange, "
                            "x-dead-letter-routing-key and x-max-priority");
    }
    return {};
}

std::string overflow_name(Overflow overflow) {
    return overflow == Overflow::reject_publish ? "reject-publish" : "drop-head";
}

std::string ttl_text(const std::optional<std::chrono::milliseconds>& ttl) {
    return ttl ? std::to_string(ttl->count()) : "none";
}

std::string optional_text(const std::optional<std::string>& text) {
    return text ? "'" + *text + "'" : "none";
}

std::string differs(const std::string& name, const std::string& existing,
                    const std::string& requested) {
    return name + " = " + existing + " (requested " + requested + ")";
}

}  // namespace

Result<QueueOptions> effective_queue_options(const std::string& queue, QueueOptions options) {
    for (const FieldEntry& entry : options.arguments.entries()) {
        if (auto applied = apply_argument(queue, entry, options); !applied) return applied.error();
    }
    if (options.max_length_messages == 0 || options.max_length_messages > kMaxQueueLengthMessages) {
        return make_error(Errc::invalid_argument, "invalid max_length_messages " +
                                                      std::to_string(options.max_length_messages) +
                                                      " (x-max-length) for queue '" + queue +
                                                      "': use a value from 1 to " +
                                                      std::to_string(kMaxQueueLengthMessages));
    }
    if (options.dead_letter_routing_key && !options.dead_letter_exchange) {
        return make_error(Errc::invalid_argument,
                          "queue '" + queue +
                              "' sets x-dead-letter-routing-key without x-dead-letter-exchange; "
                              "set both or neither");
    }
    if (options.exclusive && options.owner.empty()) {
        return make_error(
            Errc::invalid_argument,
            "exclusive queue '" + queue + "' needs an owner (the declaring connection)");
    }
    return options;
}

std::string describe_queue_mismatch(const QueueOptions& existing, const QueueOptions& requested) {
    const auto& a = existing;
    const auto& b = requested;
    if (a.durable != b.durable) {
        return differs("durable", a.durable ? "true" : "false", b.durable ? "true" : "false");
    }
    if (a.exclusive != b.exclusive) {
        return differs("exclusive", a.exclusive ? "true" : "false", b.exclusive ? "true" : "false");
    }
    if (a.auto_delete != b.auto_delete) {
        return differs("auto_delete", a.auto_delete ? "true" : "false",
                       b.auto_delete ? "true" : "false");
    }
    if (a.max_length_messages != b.max_length_messages) {
        return differs("x-max-length (max_length_messages)", std::to_string(a.max_length_messages),
                       std::to_string(b.max_length_messages));
    }
    if (a.max_length_bytes != b.max_length_bytes) {
        return differs("x-max-length-bytes", std::to_string(a.max_length_bytes),
                       std::to_string(b.max_length_bytes));
    }
    if (a.overflow != b.overflow) {
        return differs("x-overflow", overflow_name(a.overflow), overflow_name(b.overflow));
    }
    if (a.message_ttl != b.message_ttl) {
        return differs("x-message-ttl", ttl_text(a.message_ttl), ttl_text(b.message_ttl));
    }
    if (a.dead_letter_exchange != b.dead_letter_exchange) {
        return differs("x-dead-letter-exchange", optional_text(a.dead_letter_exchange),
                       optional_text(b.dead_letter_exchange));
    }
    if (a.dead_letter_routing_key != b.dead_letter_routing_key) {
        return differs("x-dead-letter-routing-key", optional_text(a.dead_letter_routing_key),
                       optional_text(b.dead_letter_routing_key));
    }
    if (a.max_priority != b.max_priority) {
        return differs("x-max-priority", std::to_string(a.max_priority),
                       std::to_string(b.max_priority));
    }
    return {};
}

}  // namespace imgbus::broker
