// SPDX-License-Identifier: MIT
#include "remote_broker.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include "imgbus/log.hpp"

namespace imgbus::cli {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string{} : std::string{value};
}

}  // namespace

Result<std::unique_ptr<amqp::RemoteBroker>> open_remote_broker(
    const std::string& text, const std::optional<s3::Credentials>& fallback,
    metrics::Metrics& metrics) {
    auto url = amqp::parse_broker_url(text);
    if (!url) return url.error();
    auto log = module_logger("cli");
    if (!url->has_credentials) {
        if (auto user = env("IMGBUS_BROKER_USER"); !user.empty()) {
            url->username = user;
            url->password = env("IMGBUS_BROKER_PASSWORD");
            log->info("broker user {} from IMGBUS_BROKER_USER", user);
        } else if (fallback) {
            url->username = fallback->access_key;
            url->password = fallback->secret_key;
            log->info("broker user {} from the store key pair", url->username);
        } else {
            url->username = url->password = "guest";
            log->info("broker user guest (no user in the URL or IMGBUS_BROKER_USER)");
        }
    }
    amqp::ClientOptions options;
    if (auto heartbeat = env("IMGBUS_BROKER_HEARTBEAT"); !heartbeat.empty()) {
        int seconds = -1;
        const auto [end, error] =
            std::from_chars(heartbeat.data(), heartbeat.data() + heartbeat.size(), seconds);
        if (error != std::errc{} || end != heartbeat.data() + heartbeat.size() || seconds < 0 ||
            seconds > 600) {
            return broker::make_error(
                broker::Errc::invalid_argument,
                "IMGBUS_BROKER_HEARTBEAT is '" + heartbeat +
                    "'; set it to seconds in 0..600 (0 turns heartbeats off)");
        }
        options.heartbeat = std::chrono::seconds(seconds);
    }
    options.connection_name = "imgbus " + std::to_string(::getpid());
    auto& counter = metrics.grayscale_reconnect_attempts_total();
    options.on_reconnect_attempt = [&counter](int) { counter.Increment(); };
    return amqp::open_remote_broker(std::move(*url), std::move(options));
}

bool wait_for_broker(amqp::RemoteBroker& broker, const std::function<bool()>& stop_requested) {
    auto log = module_logger("cli");
    const auto started = std::chrono::steady_clock::now();
    auto next_note = started + std::chrono::seconds(5);
    while (!broker.wait_connected(std::chrono::milliseconds(200))) {
        if (stop_requested()) return false;
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_note) {
            log->warn("still waiting for the broker {} after {} s", broker.describe(),
                      std::chrono::duration_cast<std::chrono::seconds>(now - started).count());
            next_note = now + std::chrono::seconds(5);
        }
    }
    return true;
}

}  // namespace imgbus::cli
