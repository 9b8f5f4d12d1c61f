// SPDX-License-Identifier: MIT
#include "imgbus/imaging/error.hpp"

#include <string>
#include <utility>

namespace imgbus::imaging {
namespace {

class ImagingCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "imaging"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::empty_input:
                return "empty input";
            case Errc::unknown_format:
                return "unknown image format";
            case Errc::zero_dimension:
                return "zero image dimension";
            case Errc::too_large:
                return "image too large";
            case Errc::truncated:
                return "truncated image";
            case Errc::corrupt:
                return "corrupt image";
            case Errc::unsupported:
                return "unsupported image";
            case Errc::invalid_argument:
                return "invalid argument";
            case Errc::encode_failed:
                return "encode failed";
        }
        return "unknown imaging error";
    }
};

}  // namespace

const std::error_category& imaging_category() {
    static const ImagingCategory category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), imaging_category()}; }

Error make_error(Errc e, std::string message) {
    return Error{make_error_code(e), std::move(message)};
}

}  // namespace imgbus::imaging
