// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "imgbus/imaging/image.hpp"
#include "imgbus/result.hpp"

namespace imgbus::imaging {

// A typed parameter of an operation, as shown by GET /api/operations and `imgbus process --help`.
struct ParamSpec {
    std::string name;
    std::string description;
    enum class Type { integer, number } type = Type::integer;
    double default_value = 0;
    double min_value = 0;
    double max_value = 0;
};

// Parameter values by name, already validated against the ParamSpecs.
using ParamValues = std::map<std::string, double>;

struct KernelContext {
    int threads = 1;  // OpenMP threads for this call
    int passes = 1;   // times the kernel runs over the image; more passes, heavier job
};

// An image operation: a name, a description, parameters and a kernel. The kernel reads `input`
// and returns a new image; it must not throw out of an OpenMP region.
struct Operation {
    std::string name;
    std::string description;
    std::vector<ParamSpec> params;
    std::function<Result<Image>(const Image& input, const ParamValues& params,
                                const KernelContext& context)>
        kernel;
};

// The operations known to this process, looked up by name.
class OperationRegistry {
public:
    // The registry with every built-in operation.
    static OperationRegistry& global();

    // Adds an operation; a second one with the same name replaces the first.
    void add(Operation operation);
    const Operation* find(const std::string& name) const;
    std::vector<const Operation*> list() const;

    // Fills in defaults and checks each value against its range; fails with invalid_argument
    // naming the parameter, the value and the allowed range.
    Result<ParamValues> validate(const std::string& name,
                                 const std::map<std::string, std::string>& raw) const;

private:
    std::map<std::string, Operation> operations_;
};

}  // namespace imgbus::imaging
