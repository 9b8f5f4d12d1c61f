// SPDX-License-Identifier: MIT
#include "curl_library.hpp"

#include <fmt/format.h>

#include "imgbus/dynload/shared_library.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::s3 {
namespace {

void bind_all(dynload::SymbolBinder& bind, CurlLibrary& table) {
    bind("curl_global_init", table.global_init);
    bind("curl_easy_init", table.easy_init);
    bind("curl_easy_cleanup", table.easy_cleanup);
    bind("curl_easy_setopt", table.easy_setopt);
    bind("curl_easy_perform", table.easy_perform);
    bind("curl_easy_getinfo", table.easy_getinfo);
    bind("curl_easy_strerror", table.easy_strerror);
    bind("curl_slist_append", table.slist_append);
    bind("curl_slist_free_all", table.slist_free_all);
}

Result<const CurlLibrary*> load_and_initialise() {
    const auto loaded =
        dynload::load_table<CurlLibrary>({"libcurl.so.4", "libcurl4", "the S3 client"}, bind_all);
    if (!loaded) {
        return store::make_error(store::Errc::io_error, loaded.error().message);
    }
    const CurlLibrary& table = **loaded;
    const CURLcode code = table.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        return store::make_error(store::Errc::io_error, fmt::format("curl_global_init failed: {}",
                                                                    table.easy_strerror(code)));
    }
    return &table;
}

}  // namespace

Result<const CurlLibrary*> load_curl() {
    static const Result<const CurlLibrary*> loaded = load_and_initialise();
    return loaded;
}

}  // namespace imgbus::s3
