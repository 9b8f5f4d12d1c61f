// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "imgbus/result.hpp"
#include "imgbus/s3/server.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::s3 {

struct ClientOptions {
    std::string region = "us-east-1";
    std::chrono::seconds connect_timeout{10};
    // A request fails once it has moved no bytes for this long: no connection, no reply, or a
    // transfer that stopped. There is no cap on the whole request, so a large object on a slow
    // link that keeps moving is not cut off.
    std::chrono::seconds stall_timeout{60};
    std::uint64_t max_object_bytes = 5ULL << 30;  // get_object refuses larger objects
};

// Opens an external S3-compatible store (MinIO, AWS S3, another imgbus) as an ObjectStore.
// `url` is http://HOST[:PORT] or https://HOST[:PORT], addressed path-style
// (http://HOST:PORT/BUCKET/KEY); s3://HOST[:PORT] means https://HOST[:PORT]. A "?region=NAME"
// suffix sets the signing region (default us-east-1). Requests are signed with SigV4 by libcurl.
// Fails on a URL of another form or empty credentials; the store is not contacted until used.
Result<std::unique_ptr<store::ObjectStore>> open_s3_store(const std::string& url,
                                                          const Credentials& credentials,
                                                          ClientOptions options = {});

}  // namespace imgbus::s3
