// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "imgbus/result.hpp"

namespace imgbus::cli {

// The value of --http, --s3, --amqp and --metrics-addr that turns a listener off.
inline constexpr std::string_view kOff = "off";

bool is_off(const std::string& value);

// The parts that one `imgbus serve` runs, from --http, --s3, --amqp, --broker, --store and
// --workers.
struct ServeRoles {
    bool frontend = true;       // --http is not off: HTTP listener and job tracker
    bool s3_listener = true;    // --s3 is not off
    bool amqp_listener = true;  // --amqp is not off and the broker is embedded
    bool external_broker = false;
    bool external_store = false;
    int workers = 1;
};

// Rejects a combination that cannot work (nothing to run, an embedded broker or store that no
// process can reach), with a message that names the flags and the fix.
Result<void> check_roles(const ServeRoles& roles);

// Rejects a --bucket value that S3 would reject, saying the value and the naming rules.
Result<void> check_bucket_flag(const std::string& bucket);

}  // namespace imgbus::cli
