// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "imgbus/result.hpp"
#include "imgbus/worker/job.hpp"

namespace imgbus::worker::detail {

enum class Presence { required, optional };

// Constraints on a string field.
struct StringRule {
    std::size_t min_bytes = 0;
    std::size_t max_bytes = 1024;
    bool identifier = false;  // only [A-Za-z0-9._:-]
};

// Reads typed fields of one JSON object and keeps the first error, which names the message kind,
// the field path and the offending value. Every getter returns a fallback once an error is kept,
// so a parser reads all fields and checks error() once at the end.
class FieldReader {
  public:
    FieldReader(const nlohmann::json& object, std::string kind, std::string prefix = "");

    std::string string(const char* name, Presence presence, const StringRule& rule);
    std::int64_t integer(const char* name, Presence presence, std::int64_t min, std::int64_t max,
                         std::int64_t fallback);
    double seconds(const char* name);
    bool boolean(const char* name, bool fallback);
    std::chrono::system_clock::time_point timestamp(const char* name, Presence presence);
    std::optional<ObjectRef> object_ref(const char* name, Presence presence);
    std::map<std::string, std::string> params(const char* name);
    // The field as an object, or nullptr when it is absent or null; a wrong type is an error.
    const nlohmann::json* object(const char* name);

    // Reads "version" and fails with unsupported_version when it is newer than this reader.
    int version();

    void fail(Errc code, std::string message);
    bool failed() const { return error_.has_value(); }
    const Error& error() const { return *error_; }
    std::string path(const char* name) const { return prefix_ + name; }

  private:
    const nlohmann::json* find(const char* name, Presence presence);
    void fail_type(const char* name, const std::string& expected, const nlohmann::json& value);

    const nlohmann::json& object_;
    std::string kind_;
    std::string prefix_;
    std::optional<Error> error_;
};

// The JSON text of a value for an error message, cut to a readable length.
std::string describe_value(const nlohmann::json& value);

// Parses `text` as one JSON object, or fails naming the kind and the parser's reason.
Result<nlohmann::json> parse_object(std::string_view text, const std::string& kind);

}  // namespace imgbus::worker::detail
