// SPDX-License-Identifier: MIT
// ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning
// and DeleteObjects.
#include <fmt/format.h>

#include "handlers.hpp"
#include "imgbus/s3/error.hpp"
#include "time_format.hpp"
#include "xml.hpp"

namespace imgbus::s3 {
namespace {

constexpr std::string_view kOwnerId = "imgbus";

void write_owner(XmlWriter& xml, std::string_view tag) {
    xml.open(tag).element("ID", kOwnerId).element("DisplayName", kOwnerId).close();
}

}  // namespace

awaitable<void> list_buckets(HandlerContext& context, Exchange& exchange) {
    context.count("list");
    auto buckets = context.store.list_buckets();
    if (!buckets) co_return co_await exchange.send_error(buckets.error());
    XmlWriter xml;
    xml.open("ListAllMyBucketsResult", true);
    write_owner(xml, "Owner");
    xml.open("Buckets");
    for (const auto& bucket : *buckets) {
        xml.open("Bucket")
            .element("Name", bucket.name)
            .element("CreationDate", format_iso8601(bucket.created))
            .close();
    }
    co_await exchange.send(200, {}, xml.finish());
}

awaitable<void> create_bucket(HandlerContext& context, Exchange& exchange) {
    // The optional CreateBucketConfiguration names a region; one store has one region.
    auto body = co_await exchange.read_small_body(context.options.max_xml_body_bytes);
    if (!body) co_return co_await exchange.send_error(body.error());
    context.count("put");
    if (auto created = context.store.create_bucket(exchange.bucket); !created) {
        auto error = to_s3_error(created.error());
        if (error.code == make_error_code(Errc::bucket_already_owned_by_you)) {
            error.message =
                fmt::format("the bucket '{}' already exists and is yours", exchange.bucket);
        }
        co_return co_await exchange.send_error(error);
    }
    const HeaderList headers{{"location", "/" + exchange.bucket}};
    co_await exchange.send(200, headers, std::string());
}

awaitable<void> head_bucket(HandlerContext& context, Exchange& exchange) {
    context.count("head");
    if (!context.store.bucket_exists(exchange.bucket)) {
        co_return co_await exchange.send_error(make_error(
            Errc::no_such_bucket, fmt::format("the bucket '{}' does not exist", exchange.bucket)));
    }
    const HeaderList headers{{"x-amz-bucket-region", context.options.region}};
    co_await exchange.send(200, headers, std::string());
}

awaitable<void> delete_bucket(HandlerContext& context, Exchange& exchange) {
    context.count("delete");
    if (auto deleted = context.store.delete_bucket(exchange.bucket); !deleted) {
        co_return co_await exchange.send_error(deleted.error());
    }
    for (const auto& upload : context.multipart.list_uploads(exchange.bucket)) {
        (void)context.multipart.remove(upload);
    }
    co_await exchange.send(204, {}, std::string());
}

awaitable<void> get_bucket_location(HandlerContext& context, Exchange& exchange) {
    context.count("head");
    if (!context.store.bucket_exists(exchange.bucket)) {
        co_return co_await exchange.send_error(make_error(
            Errc::no_such_bucket, fmt::format("the bucket '{}' does not exist", exchange.bucket)));
    }
    // S3 reports us-east-1 as an empty constraint.
    const auto& region = context.options.region;
    XmlWriter xml;
    xml.open("LocationConstraint", true);
    std::string text = xml.finish();
    const auto close = text.rfind("</LocationConstraint>");
    text.insert(close, region == "us-east-1" ? std::string() : xml_escape(region));
    co_await exchange.send(200, {}, std::move(text));
}

awaitable<void> get_bucket_versioning(HandlerContext& context, Exchange& exchange) {
    if (!context.store.bucket_exists(exchange.bucket)) {
        co_return co_await exchange.send_error(make_error(
            Errc::no_such_bucket, fmt::format("the bucket '{}' does not exist", exchange.bucket)));
    }
    XmlWriter xml;
    xml.open("VersioningConfiguration", true);
    co_await exchange.send(200, {}, xml.finish());
}

awaitable<void> delete_objects(HandlerContext& context, Exchange& exchange) {
    auto body = co_await exchange.read_small_body(context.options.max_xml_body_bytes);
    if (!body) co_return co_await exchange.send_error(body.error());
    auto request = parse_delete_objects(*body);
    if (!request) co_return co_await exchange.send_error(request.error());
    if (!context.store.bucket_exists(exchange.bucket)) {
        co_return co_await exchange.send_error(make_error(
            Errc::no_such_bucket, fmt::format("the bucket '{}' does not exist", exchange.bucket)));
    }
    XmlWriter xml;
    xml.open("DeleteResult", true);
    for (const auto& key : request->keys) {
        context.count("delete");
        Result<void> deleted = store::validate_key(key);
        if (deleted) deleted = context.store.delete_object(exchange.bucket, key);
        if (!deleted) {
            const auto error = to_s3_error(deleted.error());
            xml.open("Error")
                .element("Key", key)
                .element("Code", error_code_name(static_cast<Errc>(error.code.value())))
                .element("Message", error.message)
                .close();
        } else if (!request->quiet) {
            xml.open("Deleted").element("Key", key).close();
        }
    }
    co_await exchange.send(200, {}, xml.finish());
}

}  // namespace imgbus::s3
