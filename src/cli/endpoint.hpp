// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>

#include "imgbus/result.hpp"

namespace imgbus::cli {

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
};

// Parses "HOST:PORT", "[IPV6]:PORT" or ":PORT" (host 127.0.0.1). Port 0 means any free port.
Result<Endpoint> parse_endpoint(const std::string& text);

// Formats an address for a URL, with brackets around IPv6 hosts.
std::string format_endpoint(const std::string& host, std::uint16_t port);

}  // namespace imgbus::cli
