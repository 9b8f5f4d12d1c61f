// SPDX-License-Identifier: MIT
#include "imgbus/dynload/shared_library.hpp"

#include <catch2/catch.hpp>
#include <cstring>

using imgbus::dynload::LibrarySpec;
using imgbus::dynload::load_library;
using imgbus::dynload::SymbolBinder;

namespace {

struct CLibrary {
    decltype(&std::strlen) strlen = nullptr;
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("loaded library fills the table", "[dynload]") {
    CLibrary table;
    const auto loaded = load_library({"libc.so.6", "libc6", "a test"},
                                     [&](SymbolBinder& bind) { bind("strlen", table.strlen); });
    REQUIRE(loaded.ok());
    REQUIRE(table.strlen != nullptr);
    CHECK(table.strlen("four") == 4);
}

TEST_CASE("missing library names the package", "[dynload]") {
    bool bound = false;
    const LibrarySpec spec{"libimgbus-no-such-library.so.7", "libimgbus-none7", "the test feature"};
    const auto loaded = load_library(spec, [&](SymbolBinder&) { bound = true; });
    REQUIRE_FALSE(loaded.ok());
    CHECK_FALSE(bound);
    CHECK(loaded.error().code == std::errc::io_error);
    const std::string& message = loaded.error().message;
    CHECK(contains(message, "cannot load libimgbus-no-such-library.so.7 for the test feature"));
    CHECK(contains(message, "install Debian's libimgbus-none7 package"));
}

TEST_CASE("missing symbol names the symbol", "[dynload]") {
    CLibrary table;
    const auto loaded = load_library({"libc.so.6", "libc6", "a test"}, [&](SymbolBinder& bind) {
        bind("imgbus_no_such_function", table.strlen);
    });
    REQUIRE_FALSE(loaded.ok());
    CHECK(table.strlen == nullptr);
    CHECK(contains(loaded.error().message, "symbol imgbus_no_such_function"));
    CHECK(contains(loaded.error().message, "install Debian's libc6 package"));
}

namespace {

int table_binds = 0;

void bind_strlen(SymbolBinder& bind, CLibrary& table) {
    ++table_binds;
    bind("strlen", table.strlen);
}

struct MissingLibrary {
    decltype(&std::strlen) strlen = nullptr;
};

void bind_missing(SymbolBinder& bind, MissingLibrary& table) { bind("strlen", table.strlen); }

}  // namespace

TEST_CASE("table is loaded once", "[dynload]") {
    const LibrarySpec spec{"libc.so.6", "libc6", "a test"};
    const auto first = imgbus::dynload::load_table<CLibrary>(spec, bind_strlen);
    const auto second = imgbus::dynload::load_table<CLibrary>(spec, bind_strlen);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(*first == *second);
    CHECK(table_binds == 1);
    CHECK((*first)->strlen("abc") == 3);
}

TEST_CASE("table load failure is kept", "[dynload]") {
    const LibrarySpec spec{"libimgbus-no-such-library.so.7", "libimgbus-none7", "a test"};
    const auto first = imgbus::dynload::load_table<MissingLibrary>(spec, bind_missing);
    const auto second = imgbus::dynload::load_table<MissingLibrary>(spec, bind_missing);
    REQUIRE_FALSE(first.ok());
    REQUIRE_FALSE(second.ok());
    CHECK(first.error().message == second.error().message);
    CHECK(contains(first.error().message, "libimgbus-none7"));
}
