// SPDX-License-Identifier: MIT
#include <string>

#include "imgbus/worker/job.hpp"

namespace imgbus::worker {
namespace {

class WorkerCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "imgbus.worker"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::invalid_message:
                return "invalid job or event message";
            case Errc::unsupported_version:
                return "message written with a newer protocol version";
        }
        return "unknown worker error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& worker_category() {
    static const WorkerCategory category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), worker_category()}; }

Error make_error(Errc e, std::string message) { return {make_error_code(e), std::move(message)}; }

}  // namespace imgbus::worker
