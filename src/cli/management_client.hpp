// SPDX-License-Identifier: MIT
// The HTTP client of `imgbus queues` and `imgbus admin`: one request at a time, with basic auth,
// against imgbus's management API or RabbitMQ's management plugin.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "imgbus/result.hpp"

namespace imgbus::cli {

// An http:// URL split into what a request needs. The path prefix is kept for a management API
// behind a reverse proxy (RabbitMQ's management.path_prefix).
struct HttpUrl {
    std::string host;
    std::string port;
    std::string prefix;  // without a trailing '/'
};

// Parses http://HOST[:PORT][/PREFIX]; https and other schemes fail with the fix.
Result<HttpUrl> parse_http_url(const std::string& url);

// Percent-encodes one path segment, '/' included, as RabbitMQ expects vhost "/" as %2F.
std::string encode_path_segment(std::string_view segment);

// The --url and credential flags that both commands take.
struct ConnectionFlags {
    std::string url = "http://127.0.0.1:8080";
    std::string user;
    std::string password;
    std::string data_dir = "imgbus-data";
    double timeout_seconds = 10;
};

void add_connection_flags(CLI::App& command, ConnectionFlags& flags);

struct HttpAnswer {
    int status = 0;
    std::string body;
};

class ManagementClient {
  public:
    // Checks the URL and finds the credentials: --user/--password (or IMGBUS_ACCESS_KEY and
    // IMGBUS_SECRET_KEY), else <data-dir>/credentials.json of a local imgbus serve.
    static Result<ManagementClient> connect(const ConnectionFlags& flags);

    Result<HttpAnswer> request(std::string_view method, const std::string& path) const;
    // Sends a GET that must return 200 with JSON; any other response fails with the reason.
    Result<nlohmann::json> get_json(const std::string& path) const;

    const std::string& url() const { return url_; }

  private:
    ManagementClient() = default;

    std::string url_;
    HttpUrl target_;
    std::string authorization_;
    std::chrono::milliseconds timeout_{10000};
};

// Describes a non-2xx response: the status, the server's reason, and what to do.
std::string describe_failure(const HttpAnswer& answer, std::string_view what,
                             const std::string& url);

}  // namespace imgbus::cli
