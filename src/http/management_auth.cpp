// SPDX-License-Identifier: MIT
// HTTP basic auth of the management and admin routes.
#include <boost/beast/http/field.hpp>
#include <optional>

#include "management.hpp"

namespace imgbus::http {
namespace {

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Decodes standard base64 with optional '=' padding; nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        int value = base64_value(c);
        if (value < 0) return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xff));
        }
    }
    return out;
}

// Compares without an early exit, so the time taken does not reveal how much of a guess matched.
bool equal_constant_time(std::string_view a, std::string_view b) {
    std::size_t longest = std::max(a.size(), b.size());
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < longest; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        difference |= x ^ y;
    }
    return difference == 0;
}

bool credentials_match(const FrontendOptions& options, std::string_view header) {
    constexpr std::string_view kScheme = "Basic ";
    if (header.size() <= kScheme.size()) return false;
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(kScheme[i])))
            return false;
    }
    auto decoded = base64_decode(header.substr(kScheme.size()));
    if (!decoded) return false;
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    bool user_ok = equal_constant_time(decoded->substr(0, colon), options.management_username);
    bool password_ok = equal_constant_time(decoded->substr(colon + 1), options.management_password);
    return user_ok && password_ok;
}

}  // namespace

std::optional<Response> check_management_auth(const FrontendOptions& options,
                                              const Request& request) {
    if (options.management_username.empty() || options.management_password.empty()) {
        return management_error(Status::forbidden, "forbidden",
                                "the management API is off because the server has no "
                                "credentials; start imgbus serve with --access-key and "
                                "--secret-key");
    }
    auto header = request[boost::beast::http::field::authorization];
    if (credentials_match(options, std::string_view(header.data(), header.size()))) {
        return std::nullopt;
    }
    auto refused = management_error(Status::unauthorized, "not_authorised",
                                    "login failed: send HTTP basic auth with the server's access "
                                    "key as user and its secret key as password");
    refused.set(boost::beast::http::field::www_authenticate, "Basic realm=\"imgbus management\"");
    return refused;
}

}  // namespace imgbus::http
