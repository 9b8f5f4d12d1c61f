// SPDX-License-Identifier: MIT
#pragma once
// libcurl, loaded with dlopen the first time an S3 client is opened instead of at program start.
// Debian builds libcurl and the libraries it needs (TLS, HTTP/2, LDAP, Kerberos, SSH) with eager
// binding. Resolving them took about 12 million instructions, close to half of the start-up of
// every imgbus command. Yet only `--store http://...` and `imgbus worker` use the S3 client.
// Only the functions the client calls are looked up.
#include <curl/curl.h>

#include "imgbus/result.hpp"

namespace imgbus::s3 {

struct CurlLibrary {
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_perform) easy_perform = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// Loads libcurl.so.4 and runs curl_global_init once per process; later calls return the same
// table. Fails with a message that names the library and the Debian package to install.
Result<const CurlLibrary*> load_curl();

}  // namespace imgbus::s3
