// SPDX-License-Identifier: MIT
#include "imgbus/store/byte_range.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace imgbus::store {
namespace {

constexpr std::string_view kUnit = "bytes=";

std::optional<std::uint64_t> parse_offset(std::string_view digits) {
    std::uint64_t value = 0;
    const auto* end = digits.data() + digits.size();
    const auto [stop, error] = std::from_chars(digits.data(), end, value);
    if (digits.empty() || error != std::errc{} || stop != end) {
        return std::nullopt;
    }
    return value;
}

std::string_view trim_spaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

RangeRequest resolve_range(std::string_view header, std::uint64_t size) {
    RangeRequest request;
    if (!header.starts_with(kUnit) || header.find(',') != std::string_view::npos) {
        return request;
    }
    const auto spec = header.substr(kUnit.size());
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return request;
    }
    const auto start = parse_offset(spec.substr(0, dash));
    const auto stop = parse_offset(spec.substr(dash + 1));
    const bool open_end = dash + 1 == spec.size();

    if (!start) {
        // A suffix: the last n bytes, or the whole object when it is shorter.
        if (!stop) return request;
        if (*stop == 0 || size == 0) {
            request.kind = RangeRequest::Kind::unsatisfiable;
            return request;
        }
        const auto length = std::min(*stop, size);
        request.kind = RangeRequest::Kind::partial;
        request.bytes = {size - length, length};
        return request;
    }
    if ((!stop && !open_end) || (stop && *stop < *start)) {
        return request;  // malformed: ignored
    }
    if (*start >= size) {
        request.kind = RangeRequest::Kind::unsatisfiable;
        return request;
    }
    const auto last = stop ? std::min(*stop, size - 1) : size - 1;
    request.kind = RangeRequest::Kind::partial;
    request.bytes = {*start, last - *start + 1};
    return request;
}

bool etag_listed(std::string_view header, std::string_view etag) {
    while (true) {
        const auto comma = header.find(',');
        auto item = trim_spaces(header.substr(0, comma));
        if (item.starts_with("W/")) item.remove_prefix(2);
        if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
            item = item.substr(1, item.size() - 2);
        }
        if (item == "*" || (!item.empty() && item == etag)) return true;
        if (comma == std::string_view::npos) return false;
        header.remove_prefix(comma + 1);
    }
}

}  // namespace imgbus::store
