// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>

#include "exchange.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/s3/server.hpp"
#include "imgbus/store/object_store.hpp"
#include "multipart_store.hpp"

namespace imgbus::s3 {

// What every operation handler needs besides the exchange.
struct HandlerContext {
    store::ObjectStore& store;
    metrics::Metrics* metrics;
    const ServerOptions& options;
    MultipartStore& multipart;
    // Runs the commits (fsync) of uploads and the long copies of CopyObject and
    // CompleteMultipartUpload off the I/O threads.
    boost::asio::thread_pool& blocking;

    // Counts one store request in imgbus_store_requests_total{op}.
    void count(const char* op) const;
    void count_read(std::uint64_t bytes) const;
    void count_written(std::uint64_t bytes) const;
};

// Authenticates and dispatches one request to its operation, then answers it.
awaitable<void> handle_request(HandlerContext& context, Exchange& exchange);

// Operations, by resource.
awaitable<void> list_buckets(HandlerContext& context, Exchange& exchange);
awaitable<void> create_bucket(HandlerContext& context, Exchange& exchange);
awaitable<void> head_bucket(HandlerContext& context, Exchange& exchange);
awaitable<void> delete_bucket(HandlerContext& context, Exchange& exchange);
awaitable<void> get_bucket_location(HandlerContext& context, Exchange& exchange);
awaitable<void> get_bucket_versioning(HandlerContext& context, Exchange& exchange);
awaitable<void> delete_objects(HandlerContext& context, Exchange& exchange);
awaitable<void> list_objects(HandlerContext& context, Exchange& exchange, bool version2);

awaitable<void> put_object(HandlerContext& context, Exchange& exchange);
awaitable<void> copy_object(HandlerContext& context, Exchange& exchange);
awaitable<void> get_object(HandlerContext& context, Exchange& exchange, bool head_only);
awaitable<void> delete_object(HandlerContext& context, Exchange& exchange);

awaitable<void> create_multipart_upload(HandlerContext& context, Exchange& exchange);
awaitable<void> upload_part(HandlerContext& context, Exchange& exchange);
awaitable<void> complete_multipart_upload(HandlerContext& context, Exchange& exchange);
awaitable<void> abort_multipart_upload(HandlerContext& context, Exchange& exchange);
awaitable<void> list_parts(HandlerContext& context, Exchange& exchange);
awaitable<void> list_multipart_uploads(HandlerContext& context, Exchange& exchange);

// Helpers shared by the handlers.

// Runs `work` on the blocking pool, then resumes on the caller's executor with its result.
template <class Work>
awaitable<std::invoke_result_t<Work&>> run_blocking(HandlerContext& context, Work work) {
    std::optional<std::invoke_result_t<Work&>> result;
    co_await boost::asio::co_spawn(
        context.blocking,
        [&]() -> awaitable<void> {
            result.emplace(work());
            co_return;
        },
        boost::asio::use_awaitable);
    co_return std::move(*result);
}
std::string quote_etag(const std::string& etag);
// Content-Type and x-amz-meta-* of the request, checked against S3's 2 KiB metadata limit.
Result<store::PutOptions> put_options_from_headers(const HeaderList& headers);
// The response headers that describe an object (ETag, Last-Modified, Content-Type, metadata).
HeaderList object_headers(const store::ObjectInfo& info);
// Streams the request body into a new object; nothing becomes visible unless the whole body
// arrives and passes every check.
awaitable<Result<store::ObjectInfo>> receive_object(HandlerContext& context, Exchange& exchange,
                                                    store::ObjectWriter& writer);

}  // namespace imgbus::s3
