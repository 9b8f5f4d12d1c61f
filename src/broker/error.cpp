// SPDX-License-Identifier: MIT
#include <string>

#include "imgbus/broker/broker.hpp"

namespace imgbus::broker {

namespace {

class BrokerCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "broker"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::queue_not_found:
                return "queue not found";
            case Errc::queue_full:
                return "queue full";
            case Errc::queue_exists_with_other_options:
                return "queue exists with other options";
            case Errc::unknown_delivery_tag:
                return "unknown delivery tag";
            case Errc::consumer_not_found:
                return "consumer not found";
            case Errc::invalid_argument:
                return "invalid argument";
            case Errc::unavailable:
                return "broker unavailable";
            case Errc::exchange_not_found:
                return "exchange not found";
            case Errc::exchange_exists_with_other_options:
                return "exchange exists with other options";
            case Errc::in_use:
                return "in use";
            case Errc::not_empty:
                return "not empty";
            case Errc::resource_locked:
                return "resource locked";
            case Errc::access_refused:
                return "access refused";
            case Errc::session_not_found:
                return "session not found";
            case Errc::journal_failed:
                return "journal failed";
            case Errc::not_supported:
                return "not supported";
        }
        return "unknown broker error";
    }
};

}  // namespace

const std::error_category& broker_category() {
    static const BrokerCategory category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), broker_category()}; }

Error make_error(Errc e, std::string message) {
    return Error{make_error_code(e), std::move(message)};
}

}  // namespace imgbus::broker
