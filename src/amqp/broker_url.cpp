// SPDX-License-Identifier: MIT
// amqp:// URLs of an external broker: parsing, percent-decoding and the redacted form for logs.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "imgbus/amqp/client.hpp"

namespace imgbus::amqp {
namespace {

constexpr std::string_view kScheme = "amqp://";
constexpr std::string_view kForm = "amqp://USER:PASSWORD@HOST:PORT/VHOST";

Error bad_url(const std::string& what) {
    return broker::make_error(broker::Errc::invalid_argument,
                              "broker URL: " + what + "; expected " + std::string(kForm));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        const bool plain = std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out += {'%', kHex[c >> 4], kHex[c & 15]};
        }
    }
    return out;
}

Result<void> parse_credentials(std::string_view userinfo, BrokerUrl& url) {
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view{}
                                                                   : userinfo.substr(colon + 1));
    if (!user || !password) return bad_url("a bad percent escape in the user or password");
    if (user->empty()) return bad_url("an empty user before '@'");
    url.username = std::move(*user);
    url.password = std::move(*password);
    url.has_credentials = true;
    return {};
}

Result<void> parse_host_port(std::string_view authority, BrokerUrl& url) {
    std::string_view host = authority;
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad_url("an IPv6 host without ']'");
        host = authority.substr(1, close - 1);
        const auto rest = authority.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return bad_url("text after the IPv6 host");
        port = rest.empty() ? rest : rest.substr(1);
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return bad_url("no host");
    url.host = std::string(host);
    if (port.empty()) return {};
    // Only an all-digit port is echoed: other text there may be a password that lost its '@'.
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return bad_url(
            "the text after the host's last ':' is not a port number in 1..65535 (if it is a "
            "password, end the user and password with '@')");
    }
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
        return bad_url("port '" + std::string(port) + "' is not a number in 1..65535");
    }
    url.port = static_cast<std::uint16_t>(value);
    return {};
}

}  // namespace

Result<BrokerUrl> parse_broker_url(std::string_view text) {
    if (text.starts_with("amqps://")) {
        return bad_url(
            "amqps:// (TLS) is not supported by this client; use amqp:// on a "
            "trusted network or a TLS tunnel");
    }
    if (!text.starts_with(kScheme)) return bad_url("it does not start with amqp://");
    auto rest = text.substr(kScheme.size());
    BrokerUrl url;

    // The user and password end at the last '@', so a raw '/' or '@' stays in the password
    // (generated secrets contain '/' and '+'). The host part ends at the next '/'.
    std::string_view userinfo;
    const auto at = rest.rfind('@');
    if (at != std::string_view::npos) {
        userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
    }
    const auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        const auto path = rest.substr(slash + 1);
        if (path.find_first_of("?#") != std::string_view::npos) {
            return bad_url("query parameters are not supported");
        }
        auto vhost = percent_decode(path);
        if (!vhost) return bad_url("a bad percent escape in the vhost");
        url.vhost = vhost->empty() ? "/" : std::move(*vhost);
    }
    if (at != std::string_view::npos) {
        if (auto parsed = parse_credentials(userinfo, url); !parsed) return parsed.error();
    }
    if (auto parsed = parse_host_port(authority, url); !parsed) return parsed.error();
    return url;
}

std::string redacted_url(const BrokerUrl& url) {
    std::string text{kScheme};
    if (!url.username.empty()) text += percent_encode(url.username) + "@";
    const bool ipv6 = url.host.find(':') != std::string::npos;
    if (ipv6) text += '[';
    text += url.host;
    if (ipv6) text += ']';
    text += ':';
    text += std::to_string(url.port);
    text += '/';
    text += percent_encode(url.vhost);
    return text;
}

std::chrono::milliseconds backoff_delay(const BackoffOptions& options, int attempt,
                                        double unit_random) {
    using std::chrono::milliseconds;
    const auto cap = std::max(options.max, options.initial);
    auto delay = std::max(options.initial, milliseconds{1});
    for (int i = 1; i < attempt && delay < cap; ++i) delay *= 2;
    delay = std::min(delay, cap);
    const double jitter = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0);
    return milliseconds{
        static_cast<milliseconds::rep>(static_cast<double>(delay.count()) * jitter)};
}

}  // namespace imgbus::amqp
