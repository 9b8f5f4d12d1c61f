// SPDX-License-Identifier: MIT
#include "curl_library.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>
#include <string>

#include "imgbus/store/object_store.hpp"

namespace imgbus::s3 {
namespace {

constexpr const char* kLibraryName = "libcurl.so.4";

std::string last_dl_error() {
    const char* text = dlerror();
    return text ? text : "no reason given";
}

template <class Function>
bool bind(void* library, const char* name, Function& slot, std::string& failure) {
    slot = reinterpret_cast<Function>(dlsym(library, name));
    if (!slot && failure.empty()) failure = fmt::format("symbol {}: {}", name, last_dl_error());
    return slot != nullptr;
}

// Fills `table` from the loaded library; returns an empty string or what went wrong.
std::string bind_all(void* library, CurlLibrary& table) {
    std::string failure;
    bind(library, "curl_global_init", table.global_init, failure);
    bind(library, "curl_easy_init", table.easy_init, failure);
    bind(library, "curl_easy_cleanup", table.easy_cleanup, failure);
    bind(library, "curl_easy_setopt", table.easy_setopt, failure);
    bind(library, "curl_easy_perform", table.easy_perform, failure);
    bind(library, "curl_easy_getinfo", table.easy_getinfo, failure);
    bind(library, "curl_easy_strerror", table.easy_strerror, failure);
    bind(library, "curl_slist_append", table.slist_append, failure);
    bind(library, "curl_slist_free_all", table.slist_free_all, failure);
    return failure;
}

// The process keeps the library loaded until it exits, so the table never dangles.
Result<const CurlLibrary*> load_once() {
    static CurlLibrary table;
    void* library = dlopen(kLibraryName, RTLD_NOW | RTLD_LOCAL);
    const std::string failure = library ? bind_all(library, table) : last_dl_error();
    if (!failure.empty()) {
        return store::make_error(
            store::Errc::io_error,
            fmt::format("cannot load {} for the S3 client ({}); install Debian's libcurl4 package",
                        kLibraryName, failure));
    }
    const CURLcode code = table.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        return store::make_error(store::Errc::io_error, fmt::format("curl_global_init failed: {}",
                                                                    table.easy_strerror(code)));
    }
    return &table;
}

}  // namespace

Result<const CurlLibrary*> load_curl() {
    static const Result<const CurlLibrary*> loaded = load_once();
    return loaded;
}

}  // namespace imgbus::s3
