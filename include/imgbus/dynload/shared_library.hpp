// SPDX-License-Identifier: MIT
#pragma once
// Loading an optional shared library with dlopen on first use, instead of linking it. Debian
// builds its libraries with eager binding, so every linked library costs each imgbus command its
// page faults and symbol relocations at start-up, even when only one subcommand calls it.
#include <functional>
#include <string>

#include "imgbus/result.hpp"

namespace imgbus::dynload {

// A shared library that imgbus loads with dlopen, and the names its error message gives.
struct LibrarySpec {
    const char* soname;   // "libcairo.so.2"
    const char* package;  // the Debian package that installs it, e.g. "libcairo2"
    const char* user;     // the feature that needs it, e.g. "the benchmark plot"
};

// Looks up functions in a library opened by load_library. The first missing symbol is kept for
// the error message, and the slot of each missing symbol is set to nullptr.
class SymbolBinder {
  public:
    explicit SymbolBinder(void* handle) : handle_(handle) {}

    template <class Function>
    void operator()(const char* name, Function& slot) {
        slot = reinterpret_cast<Function>(lookup(name));
    }

    const std::string& failure() const { return failure_; }

  private:
    void* lookup(const char* name);

    void* handle_;
    std::string failure_;
};

// Opens spec.soname with dlopen (RTLD_NOW | RTLD_LOCAL), then lets bind_symbols fill a table of
// function pointers through the binder. The library stays loaded until the process exits, so
// the table never dangles. Fails with std::errc::io_error and a message that names the library,
// what dlopen or dlsym reported, the feature and the Debian package to install.
Result<void> load_library(const LibrarySpec& spec,
                          const std::function<void(SymbolBinder&)>& bind_symbols);

// Loads the library into a table of function pointers on the first call, with bind_table
// filling it, and returns the same table or the same error on every later call. Each Table type
// has one table per process, so every call for one Table type must pass the same spec.
template <class Table>
Result<const Table*> load_table(const LibrarySpec& spec,
                                void (*bind_table)(SymbolBinder&, Table&)) {
    static Table table;
    static const Result<const Table*> loaded = [&]() -> Result<const Table*> {
        const auto opened =
            load_library(spec, [&](SymbolBinder& bind) { bind_table(bind, table); });
        if (!opened) {
            return opened.error();
        }
        return &table;
    }();
    return loaded;
}

}  // namespace imgbus::dynload
