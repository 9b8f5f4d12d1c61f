// SPDX-License-Identifier: MIT
#include "imgbus/dynload/shared_library.hpp"

#include <dlfcn.h>

namespace imgbus::dynload {
namespace {

std::string last_dl_error() {
    const char* text = dlerror();
    return text ? text : "no reason given";
}

Error load_error(const LibrarySpec& spec, const std::string& reason) {
    return Error{std::make_error_code(std::errc::io_error),
                 std::string("cannot load ") + spec.soname + " for " + spec.user + " (" + reason +
                     "); install Debian's " + spec.package + " package"};
}

}  // namespace

void* SymbolBinder::lookup(const char* name) {
    void* address = dlsym(handle_, name);
    if (!address && failure_.empty()) {
        failure_ = std::string("symbol ") + name + ": " + last_dl_error();
    }
    return address;
}

Result<void> load_library(const LibrarySpec& spec,
                          const std::function<void(SymbolBinder&)>& bind_symbols) {
    void* handle = dlopen(spec.soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        return load_error(spec, last_dl_error());
    }
    SymbolBinder binder(handle);
    bind_symbols(binder);
    if (!binder.failure().empty()) {
        return load_error(spec, binder.failure());
    }
    return {};
}

}  // namespace imgbus::dynload
