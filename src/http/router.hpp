// SPDX-License-Identifier: MIT
#pragma once

#include <boost/beast/http/verb.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "imgbus/result.hpp"
#include "response.hpp"

namespace imgbus::http {

// Values of the `{name}` segments of a route pattern, by name.
using PathParams = std::map<std::string, std::string>;
// Decoded query parameters; a repeated name keeps its last value.
using QueryParams = std::map<std::string, std::string>;

using Handler = std::function<Reply(const Request&, const PathParams&)>;

// Maps a method and a path to a handler. Patterns are literal segments and `{name}` segments,
// such as /api/jobs/{id}/result. A `{name}` segment matches one non-empty path segment.
class Router {
  public:
    struct Match {
        Status status = Status::not_found;  // ok, not_found or method_not_allowed
        std::string pattern;                // the matched route, for metrics labels
        const Handler* handler = nullptr;
        bool stream = false;  // the session runs the response itself (SSE)
        PathParams params;
        std::string allow;  // with method_not_allowed: the methods the path accepts
    };

    void add(boost::beast::http::verb method, std::string pattern, Handler handler);
    // Marks a route whose response the session streams itself; its handler is never called.
    void add_stream(boost::beast::http::verb method, std::string pattern);

    Match match(boost::beast::http::verb method, std::string_view path) const;

    // Runs the matched handler, or returns the 404/405 JSON error.
    Reply dispatch(const Request& request, const Match& match) const;

  private:
    struct Route {
        boost::beast::http::verb method;
        std::string pattern;
        std::vector<std::string> segments;
        Handler handler;
        bool stream = false;
    };

    static bool match_segments(const Route& route, const std::vector<std::string_view>& path,
                               PathParams& params);

    std::vector<Route> routes_;
};

// The path of a request target, without the query.
std::string_view target_path(std::string_view target);
// Parses the query of a request target (application/x-www-form-urlencoded); fails on an invalid
// percent escape or a decoded NUL.
Result<QueryParams> parse_query(std::string_view target);
// Decodes %XX escapes and, when plus_is_space, '+' as a space.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace imgbus::http
