// SPDX-License-Identifier: MIT
// Dispatch of an authenticated request to its S3 operation, by method, path and query.
#include <fmt/format.h>

#include "handlers.hpp"
#include "imgbus/s3/error.hpp"
#include "time_format.hpp"

namespace imgbus::s3 {
namespace {

bool has_param(const Exchange& exchange, std::string_view name) {
    return find_param(exchange.query, name).has_value();
}

// Sub-resources S3 has and this server does not implement.
constexpr std::string_view kUnsupported[] = {
    "acl",
    "policy",
    "cors",
    "lifecycle",
    "tagging",
    "website",
    "logging",
    "replication",
    "encryption",
    "notification",
    "object-lock",
    "retention",
    "legal-hold",
    "torrent",
    "restore",
    "select",
    "accelerate",
    "analytics",
    "inventory",
    "metrics",
    "ownershipControls",
    "publicAccessBlock",
    "requestPayment",
    "versions",
    "intelligent-tiering",
};

Error unsupported(std::string_view what) {
    return make_error(Errc::not_implemented,
                      fmt::format("{} is not implemented by imgbus's S3 API", what));
}

awaitable<void> route_service(HandlerContext& context, Exchange& exchange) {
    if (exchange.method == "GET") {
        co_return co_await list_buckets(context, exchange);
    }
    co_await exchange.send_error(
        make_error(Errc::method_not_allowed, "only GET (ListBuckets) is allowed on /"));
}

awaitable<void> route_bucket(HandlerContext& context, Exchange& exchange) {
    const auto& method = exchange.method;
    if (method == "GET" && has_param(exchange, "location")) {
        co_return co_await get_bucket_location(context, exchange);
    }
    if (method == "GET" && has_param(exchange, "versioning")) {
        co_return co_await get_bucket_versioning(context, exchange);
    }
    if (method == "GET" && has_param(exchange, "uploads")) {
        co_return co_await list_multipart_uploads(context, exchange);
    }
    if (method == "GET") {
        const bool v2 = find_param(exchange.query, "list-type") == std::optional<std::string>("2");
        co_return co_await list_objects(context, exchange, v2);
    }
    if (method == "PUT") co_return co_await create_bucket(context, exchange);
    if (method == "HEAD") co_return co_await head_bucket(context, exchange);
    if (method == "DELETE") co_return co_await delete_bucket(context, exchange);
    if (method == "POST" && has_param(exchange, "delete")) {
        co_return co_await delete_objects(context, exchange);
    }
    co_await exchange.send_error(
        make_error(Errc::method_not_allowed, fmt::format("{} is not allowed on a bucket", method)));
}

awaitable<void> route_object(HandlerContext& context, Exchange& exchange) {
    const auto& method = exchange.method;
    const bool upload = has_param(exchange, "uploadId");
    if (method == "PUT" && upload) {
        if (has_header(exchange.headers, "x-amz-copy-source")) {
            co_return co_await exchange.send_error(unsupported("UploadPartCopy"));
        }
        co_return co_await upload_part(context, exchange);
    }
    if (method == "PUT" && has_header(exchange.headers, "x-amz-copy-source")) {
        co_return co_await copy_object(context, exchange);
    }
    if (method == "PUT") co_return co_await put_object(context, exchange);
    if (method == "GET" && upload) co_return co_await list_parts(context, exchange);
    if (method == "GET") co_return co_await get_object(context, exchange, false);
    if (method == "HEAD") co_return co_await get_object(context, exchange, true);
    if (method == "DELETE" && upload) co_return co_await abort_multipart_upload(context, exchange);
    if (method == "DELETE") co_return co_await delete_object(context, exchange);
    if (method == "POST" && has_param(exchange, "uploads")) {
        co_return co_await create_multipart_upload(context, exchange);
    }
    if (method == "POST" && upload) {
        co_return co_await complete_multipart_upload(context, exchange);
    }
    co_await exchange.send_error(make_error(Errc::method_not_allowed,
                                            fmt::format("{} is not allowed on an object", method)));
}

Result<void> validate_resource(const Exchange& exchange) {
    if (!exchange.bucket.empty()) {
        if (auto valid = store::validate_bucket_name(exchange.bucket); !valid) {
            return make_error(Errc::invalid_bucket_name, valid.error().message);
        }
    }
    if (exchange.has_key) {
        if (auto valid = store::validate_key(exchange.key); !valid) {
            return to_s3_error(valid.error());
        }
    }
    for (const auto name : kUnsupported) {
        if (has_param(exchange, name)) {
            return unsupported(fmt::format("the ?{} sub-resource", name));
        }
    }
    return {};
}

}  // namespace

awaitable<void> handle_request(HandlerContext& context, Exchange& exchange) {
    const RequestView view{exchange.method, exchange.raw_path, exchange.query, exchange.headers};
    AuthPolicy policy;
    policy.max_clock_skew = context.options.max_clock_skew;
    auto auth = authenticate(view, context.options.credentials, Clock::now(), policy);
    if (!auth) {
        co_return co_await exchange.send_error(auth.error());
    }
    if (auto started = exchange.start_body(std::move(*auth)); !started) {
        co_return co_await exchange.send_error(started.error());
    }
    if (auto valid = validate_resource(exchange); !valid) {
        co_return co_await exchange.send_error(valid.error());
    }
    if (exchange.bucket.empty()) {
        co_return co_await route_service(context, exchange);
    }
    if (!exchange.has_key) {
        co_return co_await route_bucket(context, exchange);
    }
    co_await route_object(context, exchange);
}

}  // namespace imgbus::s3
