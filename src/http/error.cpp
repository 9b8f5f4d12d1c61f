// SPDX-License-Identifier: MIT
#include "error.hpp"

namespace imgbus::http {
namespace {

class HttpCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "imgbus.http"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::no_boundary:
                return "multipart boundary missing";
            case Errc::invalid_boundary:
                return "invalid multipart boundary";
            case Errc::malformed_multipart:
                return "malformed multipart body";
            case Errc::truncated_multipart:
                return "truncated multipart body";
            case Errc::too_many_parts:
                return "too many multipart parts";
            case Errc::header_too_large:
                return "multipart part header too large";
            case Errc::bad_parameter:
                return "invalid request parameter";
            case Errc::unsupported_media_type:
                return "unsupported upload content type";
            case Errc::empty_upload:
                return "upload contains no image";
        }
        return "unknown http error";
    }
};

}  // namespace

const std::error_category& http_category() {
    static const HttpCategory category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), http_category()}; }

Error make_error(Errc e, std::string message) {
    return Error{make_error_code(e), std::move(message)};
}

}  // namespace imgbus::http
