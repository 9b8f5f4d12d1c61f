// SPDX-License-Identifier: MIT
// The pipeline syntax "resize:width=800,sharpen:amount=1.5,grayscale" and running a list of
// validated steps in memory.
#include <chrono>
#include <string>

#include "imgbus/imaging/error.hpp"
#include "imgbus/imaging/operation.hpp"

namespace imgbus::imaging {
namespace {

constexpr std::size_t kMaxPipelineBytes = 4096;

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(at + 1);
    }
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    return text;
}

std::string step_label(std::size_t index, std::string_view op) {
    return "step " + std::to_string(index + 1) + " (" + std::string(op) + ")";
}

Error syntax_error(std::string message) {
    return make_error(Errc::invalid_argument,
                      std::move(message) +
                          "; write steps as OP or OP:NAME=VALUE, separated by commas, for "
                          "example resize:width=800,sharpen:amount=1.5,grayscale");
}

Result<PipelineStep> parse_step(std::size_t index, std::string_view text) {
    const auto parts = split(text, ':');
    PipelineStep step;
    step.op = std::string(trim(parts.front()));
    if (step.op.empty()) {
        return syntax_error("step " + std::to_string(index + 1) + " has no operation name");
    }
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const auto param = trim(parts[i]);
        const auto equals = param.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            return syntax_error(step_label(index, step.op) + ": '" + std::string(param) +
                                "' is not NAME=VALUE");
        }
        auto name = std::string(trim(param.substr(0, equals)));
        if (step.params.contains(name)) {
            return syntax_error(step_label(index, step.op) + ": parameter '" + name +
                                "' is given twice");
        }
        step.params[name] = std::string(trim(param.substr(equals + 1)));
    }
    return step;
}

}  // namespace

Result<std::vector<PipelineStep>> parse_pipeline(std::string_view text) {
    if (text.size() > kMaxPipelineBytes) {
        return make_error(Errc::invalid_argument, "pipeline is " + std::to_string(text.size()) +
                                                      " bytes; the maximum is " +
                                                      std::to_string(kMaxPipelineBytes));
    }
    if (trim(text).empty()) {
        return syntax_error("the operation is empty");
    }
    const auto parts = split(text, ',');
    if (parts.size() > kMaxPipelineSteps) {
        return make_error(Errc::invalid_argument, "pipeline has " + std::to_string(parts.size()) +
                                                      " steps; the maximum is " +
                                                      std::to_string(kMaxPipelineSteps));
    }
    std::vector<PipelineStep> steps;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto step = parse_step(i, parts[i]);
        if (!step) {
            return step.error();
        }
        steps.push_back(std::move(*step));
    }
    return steps;
}

std::string format_pipeline(const std::vector<PipelineStep>& steps) {
    std::string text;
    for (const auto& step : steps) {
        text += (text.empty() ? "" : ",") + step.op;
        for (const auto& [name, value] : step.params) {
            text += ":" + name + "=" + value;
        }
    }
    return text;
}

Result<std::vector<ValidatedStep>> OperationRegistry::validate_pipeline(
    const std::vector<PipelineStep>& steps) const {
    if (steps.empty() || steps.size() > kMaxPipelineSteps) {
        return make_error(Errc::invalid_argument,
                          "a pipeline needs 1 to " + std::to_string(kMaxPipelineSteps) +
                              " steps, not " + std::to_string(steps.size()));
    }
    std::vector<ValidatedStep> validated;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        auto params = validate(steps[i].op, steps[i].params);
        if (!params) {
            return make_error(Errc::invalid_argument,
                              step_label(i, steps[i].op) + ": " + params.error().message);
        }
        validated.push_back({find(steps[i].op), std::move(*params)});
    }
    return validated;
}

Result<Image> run_pipeline(const std::vector<ValidatedStep>& steps, Image image,
                           const KernelContext& context,
                           const std::function<void(const Operation&, double)>& on_step) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const Operation& operation = *steps[i].operation;
        const auto start = std::chrono::steady_clock::now();
        auto output = operation.kernel(image, steps[i].params, context);
        if (!output) {
            if (steps.size() == 1) {
                return output.error();
            }
            return Error{output.error().code,
                         step_label(i, operation.name) + ": " + output.error().message};
        }
        image = std::move(*output);
        if (on_step) {
            const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
            on_step(operation, took.count());
        }
    }
    return image;
}

}  // namespace imgbus::imaging
