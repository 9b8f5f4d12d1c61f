// SPDX-License-Identifier: MIT
#include <string>

#include "imgbus/store/object_store.hpp"

namespace imgbus::store {

namespace {

class StoreCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "store"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
            case Errc::no_such_bucket:
                return "no such bucket";
            case Errc::no_such_key:
                return "no such key";
            case Errc::bucket_already_exists:
                return "bucket already exists";
            case Errc::bucket_not_empty:
                return "bucket not empty";
            case Errc::invalid_bucket_name:
                return "invalid bucket name";
            case Errc::invalid_key:
                return "invalid object key";
            case Errc::entity_too_large:
                return "object too large";
            case Errc::io_error:
                return "storage I/O error";
            case Errc::metadata_too_large:
                return "metadata too large";
            case Errc::invalid_metadata:
                return "invalid metadata";
            case Errc::invalid_credentials:
                return "store credentials refused";
            case Errc::access_denied:
                return "store access denied";
            case Errc::invalid_request:
                return "request refused by the store";
        }
        return "unknown store error";
    }
};

}  // namespace

const std::error_category& store_category() {
    static const StoreCategory category;
    return category;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), store_category()}; }

Error make_error(Errc e, std::string message) {
    return Error{make_error_code(e), std::move(message)};
}

}  // namespace imgbus::store
