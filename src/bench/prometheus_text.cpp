// SPDX-License-Identifier: MIT
#include "prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace imgbus::bench {
namespace {

Error parse_error(std::size_t line_number, std::string_view line, std::string_view why) {
    return Error{std::make_error_code(std::errc::invalid_argument),
                 "invalid /metrics line " + std::to_string(line_number) + " '" +
                     std::string(line.substr(0, 120)) + "': " + std::string(why) +
                     "; the server must respond in the Prometheus text format 0.0.4"};
}

bool is_name_char(char c, bool first) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    return letter || (!first && c >= '0' && c <= '9');
}

std::string_view take_name(std::string_view& rest) {
    std::size_t length = 0;
    while (length < rest.size() && is_name_char(rest[length], length == 0)) {
        ++length;
    }
    auto name = rest.substr(0, length);
    rest.remove_prefix(length);
    return name;
}

// Reads a quoted label value with the escapes \\, \" and \n; rest starts after the quote.
bool take_label_value(std::string_view& rest, std::string& value) {
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '"') {
            rest.remove_prefix(i + 1);
            return true;
        }
        if (rest[i] != '\\') {
            value.push_back(rest[i]);
            continue;
        }
        if (++i == rest.size()) {
            return false;
        }
        value.push_back(rest[i] == 'n' ? '\n' : rest[i]);
    }
    return false;
}

// Parses `{a="1",b="2"}`; rest starts after the opening brace.
bool take_labels(std::string_view& rest, std::map<std::string, std::string>& labels) {
    while (!rest.empty() && rest.front() != '}') {
        auto label = take_name(rest);
        if (label.empty() || rest.size() < 2 || rest[0] != '=' || rest[1] != '"') {
            return false;
        }
        rest.remove_prefix(2);
        std::string value;
        if (!take_label_value(rest, value)) {
            return false;
        }
        labels[std::string(label)] = std::move(value);
        if (!rest.empty() && rest.front() == ',') {
            rest.remove_prefix(1);
        }
    }
    if (rest.empty()) {
        return false;
    }
    rest.remove_prefix(1);
    return true;
}

bool parse_value(std::string_view text, double& value) {
    if (text == "+Inf" || text == "Inf") {
        value = std::numeric_limits<double>::infinity();
        return true;
    }
    if (text == "-Inf") {
        value = -std::numeric_limits<double>::infinity();
        return true;
    }
    if (text == "NaN") {
        value = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

Result<Sample> parse_sample(std::string_view line, std::size_t line_number) {
    Sample sample;
    std::string_view rest = line;
    sample.name = std::string(take_name(rest));
    if (sample.name.empty()) {
        return parse_error(line_number, line, "no metric name");
    }
    if (!rest.empty() && rest.front() == '{') {
        rest.remove_prefix(1);
        if (!take_labels(rest, sample.labels)) {
            return parse_error(line_number, line, "malformed labels");
        }
    }
    while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
    }
    const auto value_text = rest.substr(0, rest.find(' '));  // an optional timestamp follows
    if (!parse_value(value_text, sample.value)) {
        return parse_error(line_number, line, "the value is not a number");
    }
    return sample;
}

bool labels_match(const Sample& sample, const std::map<std::string, std::string>& match) {
    for (const auto& [label, value] : match) {
        auto found = sample.labels.find(label);
        if (found == sample.labels.end() || found->second != value) {
            return false;
        }
    }
    return true;
}

}  // namespace

Result<std::vector<Sample>> parse_prometheus_text(std::string_view text) {
    std::vector<Sample> samples;
    std::size_t line_number = 0;
    while (!text.empty()) {
        const auto newline = text.find('\n');
        auto line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        auto sample = parse_sample(line, line_number);
        if (!sample) {
            return sample.error();
        }
        samples.push_back(std::move(*sample));
    }
    return samples;
}

double sum_samples(const std::vector<Sample>& samples, std::string_view name,
                   const std::map<std::string, std::string>& match) {
    double total = 0;
    for (const auto& sample : samples) {
        if (sample.name == name && labels_match(sample, match)) {
            total += sample.value;
        }
    }
    return total;
}

HistogramTotals histogram_totals(const std::vector<Sample>& samples, std::string_view family,
                                 const std::map<std::string, std::string>& match) {
    const std::string name(family);
    return HistogramTotals{sum_samples(samples, name + "_sum", match),
                           sum_samples(samples, name + "_count", match)};
}

double mean_between(const HistogramTotals& before, const HistogramTotals& after) {
    const double count = after.count - before.count;
    if (count <= 0) {
        return 0;
    }
    return (after.sum - before.sum) / count;
}

}  // namespace imgbus::bench
