// SPDX-License-Identifier: MIT
#include "management_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "imgbus/dynload/libcrypto.hpp"

namespace imgbus::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using asio::ip::tcp;

constexpr std::uint64_t kBodyLimitBytes = 64ULL << 20;

Error failure(std::string message) {
    return Error{std::make_error_code(std::errc::invalid_argument), std::move(message)};
}

std::string base64(std::string_view text) {
    std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
    int length = dynload::libcrypto().EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data()),
        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

struct Credentials {
    std::string user;
    std::string password;
};

// The pair a local `imgbus serve` generated in its data directory, if that file exists.
Result<Credentials> read_credentials_file(const std::filesystem::path& data_dir) {
    auto path = data_dir / "credentials.json";
    std::ifstream file(path);
    if (!file) {
        return failure(
            "no credentials: pass --user and --password (or set IMGBUS_ACCESS_KEY and "
            "IMGBUS_SECRET_KEY), or --data-dir of the server, whose " +
            path.string() + " holds them");
    }
    std::stringstream text;
    text << file.rdbuf();
    auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.value("access_key", "").size() ||
        !json.value("secret_key", "").size()) {
        return failure(path.string() +
                       " has no access_key and secret_key; pass --user and --password");
    }
    return Credentials{json["access_key"], json["secret_key"]};
}

asio::awaitable<HttpAnswer> exchange(const HttpUrl& target,
                                     beast_http::request<beast_http::empty_body> request,
                                     std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    beast::tcp_stream stream(executor);
    stream.expires_after(timeout);
    auto endpoints = co_await resolver.async_resolve(target.host, target.port, asio::use_awaitable);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_await beast_http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(kBodyLimitBytes);
    co_await beast_http::async_read(stream, buffer, parser, asio::use_awaitable);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return HttpAnswer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

// The reason in an error body: RabbitMQ's "reason", or imgbus's "message".
std::string server_reason(const std::string& body) {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object()) {
        for (const char* key : {"message", "reason", "error"}) {
            if (json.contains(key) && json[key].is_string()) return json[key];
        }
    }
    return body.substr(0, 200);
}

}  // namespace

Result<HttpUrl> parse_http_url(const std::string& url) {
    constexpr std::string_view kScheme = "http://";
    if (!url.starts_with(kScheme)) {
        return failure("--url '" + url +
                       "' must start with http:// (such as http://127.0.0.1:8080 for imgbus or "
                       "http://127.0.0.1:15672 for RabbitMQ's management plugin)");
    }
    std::string_view rest = std::string_view(url).substr(kScheme.size());
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    HttpUrl parsed;
    if (slash != std::string_view::npos) parsed.prefix = std::string(rest.substr(slash));
    while (parsed.prefix.ends_with('/')) parsed.prefix.pop_back();
    auto colon = authority.rfind(':');
    bool bracketed = authority.starts_with('[');
    auto close = authority.find(']');
    if (colon != std::string_view::npos && (!bracketed || colon > close)) {
        parsed.host = std::string(authority.substr(0, colon));
        parsed.port = std::string(authority.substr(colon + 1));
    } else {
        parsed.host = std::string(authority);
        parsed.port = "80";
    }
    if (bracketed && parsed.host.size() > 2)
        parsed.host = parsed.host.substr(1, parsed.host.size() - 2);
    bool numeric = !parsed.port.empty() &&
                   parsed.port.find_first_not_of("0123456789") == std::string::npos &&
                   parsed.port.size() <= 5 && std::stoi(parsed.port) <= 65535;
    if (parsed.host.empty() || !numeric) {
        return failure("--url '" + url +
                       "' needs a host and a port from 1 to 65535, such as "
                       "http://127.0.0.1:8080");
    }
    return parsed;
}

std::string encode_path_segment(std::string_view segment) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : segment) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

void add_connection_flags(CLI::App& command, ConnectionFlags& flags) {
    command
        .add_option("--url", flags.url,
                    "management API: imgbus serve's HTTP address, or RabbitMQ's management "
                    "plugin such as http://127.0.0.1:15672")
        ->envname("IMGBUS_URL")
        ->capture_default_str();
    command.add_option("--user", flags.user, "user name (imgbus: the access key)")
        ->envname("IMGBUS_ACCESS_KEY");
    command.add_option("--password", flags.password, "password (imgbus: the secret key)")
        ->envname("IMGBUS_SECRET_KEY");
    command
        .add_option("--data-dir", flags.data_dir,
                    "without --user and --password, read credentials.json of the imgbus serve "
                    "that uses this data directory")
        ->envname("IMGBUS_DATA_DIR")
        ->capture_default_str();
    command.add_option("--timeout", flags.timeout_seconds, "seconds to wait for each answer")
        ->check(CLI::Range(0.1, 600.0))
        ->capture_default_str();
}

Result<ManagementClient> ManagementClient::connect(const ConnectionFlags& flags) {
    auto target = parse_http_url(flags.url);
    if (!target) return target.error();
    // The Basic authorization header is encoded with libcrypto; a missing one fails here.
    if (auto crypto = dynload::load_libcrypto(); !crypto) return crypto.error();
    Credentials credentials{flags.user, flags.password};
    if (credentials.user.empty() != credentials.password.empty()) {
        return failure(
            "give both --user and --password, or neither to read them from "
            "--data-dir");
    }
    if (credentials.user.empty()) {
        auto stored = read_credentials_file(flags.data_dir);
        if (!stored) return stored.error();
        credentials = *stored;
    }
    ManagementClient client;
    client.url_ = flags.url;
    client.target_ = *target;
    client.authorization_ = "Basic " + base64(credentials.user + ":" + credentials.password);
    client.timeout_ = std::chrono::milliseconds(static_cast<long>(flags.timeout_seconds * 1000));
    return client;
}

Result<HttpAnswer> ManagementClient::request(std::string_view method,
                                             const std::string& path) const {
    beast_http::request<beast_http::empty_body> request{beast_http::string_to_verb(method),
                                                        target_.prefix + path, 11};
    request.set(beast_http::field::host, target_.host + ":" + target_.port);
    request.set(beast_http::field::authorization, authorization_);
    request.set(beast_http::field::user_agent, "imgbus-cli");
    request.prepare_payload();
    asio::io_context io;
    auto answer =
        asio::co_spawn(io, exchange(target_, std::move(request), timeout_), asio::use_future);
    io.run();
    std::string reason;
    try {
        return answer.get();
    } catch (const boost::system::system_error& e) {
        reason = e.code().message();  // what() would add Boost's source location
    } catch (const std::exception& e) {
        reason = e.what();
    }
    return Error{std::make_error_code(std::errc::connection_refused),
                 std::string(method) + " " + url_ + path + " failed: " + reason +
                     "; check --url and that the server runs"};
}

Result<nlohmann::json> ManagementClient::get_json(const std::string& path) const {
    auto answer = request("GET", path);
    if (!answer) return answer.error();
    if (answer->status != 200) {
        return failure(describe_failure(*answer, "GET " + path, url_));
    }
    auto json = nlohmann::json::parse(answer->body, nullptr, false);
    if (json.is_discarded()) {
        return failure("GET " + url_ + path + " did not answer JSON; is --url a management API?");
    }
    return json;
}

std::string describe_failure(const HttpAnswer& answer, std::string_view what,
                             const std::string& url) {
    std::string sentence = std::string(what) + " at " + url + " answered " +
                           std::to_string(answer.status) + ": " + server_reason(answer.body);
    if (answer.status == 401) {
        sentence += "; check --user and --password (imgbus: the access and secret key)";
    } else if (answer.status == 404) {
        sentence += "; check the queue name and that --url points at a management API";
    }
    return sentence;
}

}  // namespace imgbus::cli
