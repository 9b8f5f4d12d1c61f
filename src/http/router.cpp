// SPDX-License-Identifier: MIT
#include "router.hpp"

#include <boost/beast/http/field.hpp>

#include "error.hpp"

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    if (path.starts_with('/')) path.remove_prefix(1);
    while (true) {
        auto slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return segments;
}

bool is_param(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void Router::add(beast_http::verb method, std::string pattern, Handler handler) {
    Route route{method, pattern, {}, std::move(handler), false};
    for (auto segment : split_path(pattern)) route.segments.emplace_back(segment);
    routes_.push_back(std::move(route));
}

void Router::add_stream(beast_http::verb method, std::string pattern) {
    add(method, std::move(pattern), nullptr);
    routes_.back().stream = true;
}

bool Router::match_segments(const Route& route, const std::vector<std::string_view>& path,
                            PathParams& params) {
    if (route.segments.size() != path.size()) return false;
    PathParams found;
    for (std::size_t i = 0; i < path.size(); ++i) {
        const auto& expected = route.segments[i];
        if (is_param(expected)) {
            if (path[i].empty()) return false;
            found[expected.substr(1, expected.size() - 2)] = std::string(path[i]);
        } else if (expected != path[i]) {
            return false;
        }
    }
    params = std::move(found);
    return true;
}

Router::Match Router::match(beast_http::verb method, std::string_view path) const {
    Match result;
    auto segments = split_path(path);
    for (const auto& route : routes_) {
        PathParams params;
        if (!match_segments(route, segments, params)) continue;
        if (route.method == method || (method == beast_http::verb::head &&
                                       route.method == beast_http::verb::get && !route.stream)) {
            return Match{Status::ok,   route.pattern,     &route.handler,
                         route.stream, std::move(params), {}};
        }
        result.status = Status::method_not_allowed;
        result.pattern = route.pattern;
        if (!result.allow.empty()) result.allow += ", ";
        result.allow += std::string(beast_http::to_string(route.method));
    }
    return result;
}

Reply Router::dispatch(const Request& request, const Match& match) const {
    if (match.status == Status::method_not_allowed) {
        auto response =
            error_response(Status::method_not_allowed, "method_not_allowed",
                           "method " + std::string(request.method_string()) +
                               " is not allowed on " + match.pattern + "; use " + match.allow);
        response.set(beast_http::field::allow, match.allow);
        return response;
    }
    if (match.status != Status::ok || match.handler == nullptr || !*match.handler) {
        return error_response(Status::not_found, "not_found",
                              "no resource at " + std::string(target_path(request.target())) +
                                  "; see docs/api.md for the routes");
    }
    return (*match.handler)(request, match.params);
}

std::string_view target_path(std::string_view target) { return target.substr(0, target.find('?')); }

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '+' && plus_is_space) {
            decoded.push_back(' ');
            continue;
        }
        if (c != '%') {
            decoded.push_back(c);
            continue;
        }
        int high = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
        int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
            return make_error(Errc::bad_parameter, "invalid percent escape in '" +
                                                       std::string(text.substr(0, 80)) +
                                                       "'; encode '%' as %25");
        }
        decoded.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    if (decoded.find('\0') != std::string::npos) {
        return make_error(Errc::bad_parameter, "query parameter contains a NUL byte (%00)");
    }
    return decoded;
}

Result<QueryParams> parse_query(std::string_view target) {
    QueryParams params;
    auto question = target.find('?');
    if (question == std::string_view::npos) return params;
    auto query = target.substr(question + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto equals = pair.find('=');
        auto name = percent_decode(pair.substr(0, equals), true);
        if (!name) return name.error();
        auto value = percent_decode(
            equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1), true);
        if (!value) return value.error();
        params[*name] = std::move(*value);
    }
    return params;
}

}  // namespace imgbus::http
