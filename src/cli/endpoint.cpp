// SPDX-License-Identifier: MIT
#include "endpoint.hpp"

#include <charconv>

namespace imgbus::cli {
namespace {

Error invalid(const std::string& text, const std::string& why) {
    return Error{std::make_error_code(std::errc::invalid_argument),
                 "invalid address '" + text + "': " + why +
                     "; write HOST:PORT such as 127.0.0.1:8080 or [::1]:8080"};
}

}  // namespace

Result<Endpoint> parse_endpoint(const std::string& text) {
    if (const auto scheme = text.find("://"); scheme != std::string::npos) {
        return invalid(
            text, "a listen address takes no scheme such as '" + text.substr(0, scheme + 3) + "'");
    }
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        return invalid(text, "no port");
    }
    Endpoint endpoint;
    endpoint.host = text.substr(0, colon);
    if (endpoint.host.size() >= 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
        endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    } else if (endpoint.host.find(':') != std::string::npos) {
        return invalid(text, "an IPv6 host needs brackets");
    }
    if (endpoint.host.empty()) {
        endpoint.host = "127.0.0.1";
    }

    const std::string port = text.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535) {
        return invalid(text, "the port must be a number 0..65535");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
    return endpoint;
}

std::string format_endpoint(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + std::to_string(port);
    }
    return host + ":" + std::to_string(port);
}

}  // namespace imgbus::cli
