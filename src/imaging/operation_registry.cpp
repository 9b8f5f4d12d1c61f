// SPDX-License-Identifier: MIT
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <system_error>

#include "imgbus/imaging/error.hpp"
#include "imgbus/imaging/operation.hpp"
#include "operations.hpp"

namespace imgbus::imaging {
namespace {

constexpr int kMaxThreads = 1024;
constexpr int kMaxPasses = 10'000;

// 0.1, 50 or 99 as a person writes them: shortest form, no trailing zeros.
std::string format_number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

std::string known_names(const std::map<std::string, Operation>& operations) {
    std::string names;
    for (const auto& [name, operation] : operations) {
        names += (names.empty() ? "" : ", ") + name;
    }
    return names.empty() ? "none" : names;
}

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) {
        text += (text.empty() ? "" : ", ") + word;
    }
    return text;
}

Result<double> parse_choice(const ParamSpec& spec, const std::string& raw) {
    const auto found = std::find(spec.choices.begin(), spec.choices.end(), raw);
    if (found == spec.choices.end()) {
        return make_error(Errc::invalid_argument, "parameter '" + spec.name + "' = '" + raw +
                                                      "' is not one of " + join(spec.choices));
    }
    return static_cast<double>(found - spec.choices.begin());
}

Result<double> parse_value(const ParamSpec& spec, const std::string& raw) {
    if (spec.type == ParamSpec::Type::choice) {
        return parse_choice(spec, raw);
    }
    double value = 0;
    const char* end = raw.data() + raw.size();
    const auto [stop, error] = std::from_chars(raw.data(), end, value);
    const bool integral = spec.type == ParamSpec::Type::integer;
    if (raw.empty() || error != std::errc{} || stop != end || !std::isfinite(value) ||
        (integral && value != std::floor(value))) {
        return make_error(Errc::invalid_argument,
                          "parameter '" + spec.name + "' = '" + raw + "' is not " +
                              (integral ? "an integer" : "a number") + "; expected a value in " +
                              format_number(spec.min_value) + ".." + format_number(spec.max_value));
    }
    if (value < spec.min_value || value > spec.max_value) {
        return make_error(Errc::invalid_argument,
                          "parameter '" + spec.name + "' = " + raw + " is out of range " +
                              format_number(spec.min_value) + ".." + format_number(spec.max_value));
    }
    return value;
}

}  // namespace

OperationRegistry& OperationRegistry::global() {
    static OperationRegistry registry = [] {
        OperationRegistry built_in;
        built_in.add(detail::make_grayscale());
        built_in.add(detail::make_gaussian_blur());
        built_in.add(detail::make_box_blur());
        built_in.add(detail::make_sharpen());
        built_in.add(detail::make_sobel());
        built_in.add(detail::make_sepia());
        built_in.add(detail::make_invert());
        built_in.add(detail::make_brightness_contrast());
        built_in.add(detail::make_threshold());
        built_in.add(detail::make_resize());
        built_in.add(detail::make_rotate());
        built_in.add(detail::make_flip());
        built_in.add(detail::make_crop());
        return built_in;
    }();
    return registry;
}

Result<void> check_context(const KernelContext& context) {
    if (context.threads < 1 || context.threads > kMaxThreads) {
        return make_error(Errc::invalid_argument, "threads = " + std::to_string(context.threads) +
                                                      " is out of range 1.." +
                                                      std::to_string(kMaxThreads));
    }
    if (context.passes < 1 || context.passes > kMaxPasses) {
        return make_error(Errc::invalid_argument, "passes = " + std::to_string(context.passes) +
                                                      " is out of range 1.." +
                                                      std::to_string(kMaxPasses));
    }
    return {};
}

void OperationRegistry::add(Operation operation) {
    if (operation.kernel) {
        operation.kernel = [kernel = std::move(operation.kernel)](
                               const Image& input, const ParamValues& params,
                               const KernelContext& context) -> Result<Image> {
            if (auto valid = check_context(context); !valid) {
                return valid.error();
            }
            return kernel(input, params, context);
        };
    }
    auto name = operation.name;
    operations_.insert_or_assign(std::move(name), std::move(operation));
}

const Operation* OperationRegistry::find(const std::string& name) const {
    auto found = operations_.find(name);
    return found == operations_.end() ? nullptr : &found->second;
}

std::vector<const Operation*> OperationRegistry::list() const {
    std::vector<const Operation*> operations;
    operations.reserve(operations_.size());
    for (const auto& [name, operation] : operations_) {
        operations.push_back(&operation);
    }
    return operations;
}

Result<ParamValues> OperationRegistry::validate(
    const std::string& name, const std::map<std::string, std::string>& raw) const {
    const Operation* operation = find(name);
    if (operation == nullptr) {
        return make_error(Errc::invalid_argument,
                          "unknown operation '" + name + "'; known: " + known_names(operations_));
    }

    std::string unknown;
    for (const auto& entry : raw) {
        const bool known =
            std::any_of(operation->params.begin(), operation->params.end(),
                        [&entry](const ParamSpec& spec) { return spec.name == entry.first; });
        if (!known) {
            unknown += (unknown.empty() ? "'" : ", '") + entry.first + "'";
        }
    }
    if (!unknown.empty()) {
        std::string accepted;
        for (const auto& spec : operation->params) {
            accepted += (accepted.empty() ? "" : ", ") + spec.name;
        }
        return make_error(Errc::invalid_argument,
                          "operation '" + name + "' has no parameter " + unknown + "; it takes " +
                              (accepted.empty() ? "no parameters" : accepted));
    }

    ParamValues values;
    for (const auto& spec : operation->params) {
        auto given = raw.find(spec.name);
        if (given == raw.end()) {
            values[spec.name] = spec.default_value;
            continue;
        }
        auto parsed = parse_value(spec, given->second);
        if (!parsed) {
            return parsed.error();
        }
        values[spec.name] = *parsed;
    }
    return values;
}

}  // namespace imgbus::imaging
