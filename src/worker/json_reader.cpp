// SPDX-License-Identifier: MIT
#include "json_reader.hpp"

#include <algorithm>
#include <cmath>

namespace imgbus::worker::detail {
namespace {

constexpr std::size_t kMaxDescribedBytes = 80;
constexpr std::size_t kMaxParams = 64;
constexpr std::size_t kMaxParamBytes = 256;
constexpr double kMaxSeconds = 1e9;
constexpr std::size_t kMaxDepth = 16;

bool is_identifier_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

bool is_identifier(const std::string& text) {
    for (const char c : text) {
        if (!is_identifier_char(c)) {
            return false;
        }
    }
    return true;
}

std::string describe_rule(const StringRule& rule) {
    std::string text = "a string of " + std::to_string(rule.min_bytes) + ".." +
                       std::to_string(rule.max_bytes) + " bytes";
    if (rule.identifier) {
        text += " of [A-Za-z0-9._:-]";
    }
    return text;
}

// Finds the deepest nesting of arrays and objects, skipping strings. nlohmann::json 3.11.2
// overflows the stack on 100 000 nested arrays (see the job tests), so a deep document is rejected
// first.
std::size_t nesting_depth(std::string_view text) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            escaped = !escaped && c == '\\';
            in_string = escaped || c != '"';
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

std::string describe_value(const nlohmann::json& value) {
    std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > kMaxDescribedBytes) {
        text.resize(kMaxDescribedBytes);
        text += "...";
    }
    return text;
}

Result<nlohmann::json> parse_object(std::string_view text, const std::string& kind) {
    if (text.size() > kMaxMessageBytes) {
        return make_error(Errc::invalid_message, kind + " is " + std::to_string(text.size()) +
                                                     " bytes, over the limit of " +
                                                     std::to_string(kMaxMessageBytes) + " bytes");
    }
    if (nesting_depth(text) > kMaxDepth) {
        return make_error(Errc::invalid_message, kind + " nests arrays or objects deeper than " +
                                                     std::to_string(kMaxDepth) + " levels");
    }
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return make_error(Errc::invalid_message, kind + " is not valid JSON: " + e.what());
    }
    if (!value.is_object()) {
        return make_error(Errc::invalid_message,
                          kind + " must be a JSON object, got " + describe_value(value));
    }
    return value;
}

FieldReader::FieldReader(const nlohmann::json& object, std::string kind, std::string prefix)
    : object_(object), kind_(std::move(kind)), prefix_(std::move(prefix)) {}

void FieldReader::fail(Errc code, std::string message) {
    if (!error_) {
        error_ = make_error(code, std::move(message));
    }
}

void FieldReader::fail_type(const char* name, const std::string& expected,
                            const nlohmann::json& value) {
    fail(Errc::invalid_message, kind_ + " field '" + path(name) + "' must be " + expected +
                                    ", got " + describe_value(value));
}

const nlohmann::json* FieldReader::find(const char* name, Presence presence) {
    if (failed()) {
        return nullptr;
    }
    const auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) {
        if (presence == Presence::required) {
            fail(Errc::invalid_message,
                 kind_ + " is missing the required field '" + path(name) + "'");
        }
        return nullptr;
    }
    return &*it;
}

std::string FieldReader::string(const char* name, Presence presence, const StringRule& rule) {
    const auto* value = find(name, presence);
    if (value == nullptr) {
        return {};
    }
    if (!value->is_string()) {
        fail_type(name, describe_rule(rule), *value);
        return {};
    }
    const auto& text = value->get_ref<const std::string&>();
    const bool fits = text.size() >= rule.min_bytes && text.size() <= rule.max_bytes;
    if (!fits || (rule.identifier && !is_identifier(text))) {
        fail_type(name, describe_rule(rule), *value);
        return {};
    }
    return text;
}

std::int64_t FieldReader::integer(const char* name, Presence presence, std::int64_t min,
                                  std::int64_t max, std::int64_t fallback) {
    const auto* value = find(name, presence);
    if (value == nullptr) {
        return fallback;
    }
    const std::string expected = "an integer " + std::to_string(min) + ".." + std::to_string(max);
    // An unsigned value over INT64_MAX is out of every range used here.
    const bool in_int64 = value->is_number_integer() &&
                          !(value->is_number_unsigned() &&
                            value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX));
    if (!in_int64) {
        fail_type(name, expected, *value);
        return fallback;
    }
    const auto number = value->get<std::int64_t>();
    if (number < min || number > max) {
        fail_type(name, expected, *value);
        return fallback;
    }
    return number;
}

double FieldReader::seconds(const char* name) {
    const auto* value = find(name, Presence::optional);
    if (value == nullptr) {
        return 0;
    }
    const double number = value->is_number() ? value->get<double>() : -1;
    if (!std::isfinite(number) || number < 0 || number > kMaxSeconds) {
        fail_type(name, "a number of seconds 0..1e9", *value);
        return 0;
    }
    return number;
}

bool FieldReader::boolean(const char* name, bool fallback) {
    const auto* value = find(name, Presence::optional);
    if (value == nullptr) {
        return fallback;
    }
    if (!value->is_boolean()) {
        fail_type(name, "true or false", *value);
        return fallback;
    }
    return value->get<bool>();
}

std::chrono::system_clock::time_point FieldReader::timestamp(const char* name, Presence presence) {
    const auto* value = find(name, presence);
    if (value == nullptr) {
        return {};
    }
    const auto parsed =
        value->is_string() ? parse_timestamp(value->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) {
        fail_type(name, "an RFC 3339 time such as \"2026-12-04T17:00:00.123Z\"", *value);
        return {};
    }
    return *parsed;
}

const nlohmann::json* FieldReader::object(const char* name) {
    const auto* value = find(name, Presence::optional);
    if (value != nullptr && !value->is_object()) {
        fail_type(name, "an object", *value);
        return nullptr;
    }
    return value;
}

std::optional<ObjectRef> FieldReader::object_ref(const char* name, Presence presence) {
    const auto* value = find(name, presence);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_object()) {
        fail_type(name, "an object with \"bucket\" and \"key\"", *value);
        return std::nullopt;
    }
    FieldReader nested{*value, kind_, path(name) + "."};
    ObjectRef ref;
    ref.bucket = nested.string("bucket", Presence::required, {.min_bytes = 3, .max_bytes = 63});
    ref.key = nested.string("key", Presence::required, {.min_bytes = 1, .max_bytes = 1024});
    if (nested.failed()) {
        fail(Errc::invalid_message, nested.error().message);
        return std::nullopt;
    }
    return ref;
}

std::map<std::string, std::string> FieldReader::params(const char* name) {
    std::map<std::string, std::string> result;
    const auto* value = object(name);
    if (value == nullptr) {
        return result;
    }
    if (value->size() > kMaxParams) {
        fail(Errc::invalid_message, kind_ + " field '" + path(name) + "' has " +
                                        std::to_string(value->size()) + " entries, over " +
                                        std::to_string(kMaxParams));
        return result;
    }
    for (const auto& [key, item] : value->items()) {
        const std::string item_path = path(name) + "." + key;
        const bool good_key = !key.empty() && key.size() <= 64 && is_identifier(key);
        const bool good_value =
            (item.is_string() && item.get_ref<const std::string&>().size() <= kMaxParamBytes) ||
            item.is_number();
        if (!good_key || !good_value) {
            fail(Errc::invalid_message,
                 kind_ + " field '" + item_path +
                     "' must have a name of 1..64 bytes of [A-Za-z0-9._:-] and a number or a "
                     "string of at most 256 bytes, got " +
                     describe_value(item));
            return result;
        }
        result[key] = item.is_string() ? item.get<std::string>() : item.dump();
    }
    return result;
}

int FieldReader::version() {
    const auto number = integer("version", Presence::required, 1, INT32_MAX, kProtocolVersion);
    if (!failed() && number > kProtocolVersion) {
        fail(Errc::unsupported_version, kind_ + " has protocol version " + std::to_string(number) +
                                            ", newer than the version " +
                                            std::to_string(kProtocolVersion) +
                                            " this program reads; upgrade imgbus on this side");
    }
    return static_cast<int>(number);
}

}  // namespace imgbus::worker::detail
