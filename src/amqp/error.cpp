// SPDX-License-Identifier: MIT
#include "imgbus/amqp/error.hpp"

namespace imgbus::amqp {

namespace {

class AmqpCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "amqp"; }

    std::string message(int value) const override { return reply_name(static_cast<Errc>(value)); }
};

}  // namespace

const char* reply_name(Errc e) {
    switch (e) {
        case Errc::content_too_large:
            return "CONTENT_TOO_LARGE";
        case Errc::no_route:
            return "NO_ROUTE";
        case Errc::no_consumers:
            return "NO_CONSUMERS";
        case Errc::connection_forced:
            return "CONNECTION_FORCED";
        case Errc::invalid_path:
            return "INVALID_PATH";
        case Errc::access_refused:
            return "ACCESS_REFUSED";
        case Errc::not_found:
            return "NOT_FOUND";
        case Errc::resource_locked:
            return "RESOURCE_LOCKED";
        case Errc::precondition_failed:
            return "PRECONDITION_FAILED";
        case Errc::frame_error:
            return "FRAME_ERROR";
        case Errc::syntax_error:
            return "SYNTAX_ERROR";
        case Errc::command_invalid:
            return "COMMAND_INVALID";
        case Errc::channel_error:
            return "CHANNEL_ERROR";
        case Errc::unexpected_frame:
            return "UNEXPECTED_FRAME";
        case Errc::resource_error:
            return "RESOURCE_ERROR";
        case Errc::not_allowed:
            return "NOT_ALLOWED";
        case Errc::not_implemented:
            return "NOT_IMPLEMENTED";
        case Errc::internal_error:
            return "INTERNAL_ERROR";
    }
    return "UNKNOWN_REPLY_CODE";
}

bool is_connection_error(Errc e) {
    return static_cast<int>(e) >= 500 || e == Errc::connection_forced || e == Errc::invalid_path;
}

const std::error_category& amqp_category() {
    static const AmqpCategory category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), amqp_category()}; }

Error make_error(Errc e, std::string message) {
    return Error{make_error_code(e), std::move(message)};
}

}  // namespace imgbus::amqp
