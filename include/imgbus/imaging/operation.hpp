// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "imgbus/imaging/image.hpp"
#include "imgbus/result.hpp"

namespace imgbus::imaging {

// A typed parameter of an operation, as shown by GET /api/operations and `imgbus process --help`.
struct ParamSpec {
    std::string name;
    std::string description;
    // choice: one word of `choices`; its value is the word's index, and default_value is the
    // index of the default word.
    enum class Type { integer, number, choice } type = Type::integer;
    double default_value = 0;
    double min_value = 0;
    double max_value = 0;
    std::vector<std::string> choices;
};

// Parameter values by name, already validated against the ParamSpecs. A choice parameter holds
// the index of the chosen word.
using ParamValues = std::map<std::string, double>;

struct KernelContext {
    int threads = 1;  // OpenMP threads for this call
    int passes = 1;   // times the kernel runs over the image; more passes, heavier job
    // Operations that make the image larger (resize) fail rather than exceed this.
    std::uint64_t max_output_pixels = 100'000'000;
};

using Kernel = std::function<Result<Image>(const Image& input, const ParamValues& params,
                                           const KernelContext& context)>;

// An image operation: a name, a description, parameters and a kernel. The kernel reads `input`
// and returns a new image; it must not throw out of an OpenMP region.
struct Operation {
    std::string name;
    std::string description;
    std::vector<ParamSpec> params;
    Kernel kernel;
};

// One step of a pipeline before validation: an operation name and raw parameter values.
struct PipelineStep {
    std::string op;
    std::map<std::string, std::string> params;
};

// One step after validation: the registered operation and its complete parameter values.
struct ValidatedStep {
    const Operation* operation = nullptr;
    ParamValues params;
};

// The most steps one pipeline may have.
inline constexpr std::size_t kMaxPipelineSteps = 16;

// Reads the pipeline syntax: steps separated by ',', each an operation name followed by
// ':NAME=VALUE' for each parameter, such as "resize:width=800,sharpen:amount=1.5,grayscale".
// Fails with invalid_argument naming the step and the malformed part.
Result<std::vector<PipelineStep>> parse_pipeline(std::string_view text);

// The text parse_pipeline reads, with parameters in name order.
std::string format_pipeline(const std::vector<PipelineStep>& steps);

// Checks threads and passes; kernels added to a registry run only after this check passes.
Result<void> check_context(const KernelContext& context);

// The operations known to this process, looked up by name.
class OperationRegistry {
  public:
    // The registry with every built-in operation.
    static OperationRegistry& global();

    // Adds an operation; a second one with the same name replaces the first. The kernel is
    // wrapped so that it first runs check_context().
    void add(Operation operation);
    const Operation* find(const std::string& name) const;
    std::vector<const Operation*> list() const;

    // Fills in defaults and checks each value against its range; fails with invalid_argument
    // naming the parameter, the value and the allowed range.
    Result<ParamValues> validate(const std::string& name,
                                 const std::map<std::string, std::string>& raw) const;

    // Validates every step; the error names the step by position and operation
    // ("step 2 (sharpen): parameter 'amount' = 20 is out of range 0..10").
    Result<std::vector<ValidatedStep>> validate_pipeline(
        const std::vector<PipelineStep>& steps) const;

  private:
    std::map<std::string, Operation> operations_;
};

// Runs the steps in order, each on the previous step's output. `on_step`, when set, is called
// after each step with its operation and its kernel time in seconds. The error names the step.
Result<Image> run_pipeline(const std::vector<ValidatedStep>& steps, Image image,
                           const KernelContext& context,
                           const std::function<void(const Operation&, double)>& on_step = {});

}  // namespace imgbus::imaging
