// SPDX-License-Identifier: MIT
// CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts
// and ListMultipartUploads.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>

#include "handlers.hpp"
#include "imgbus/s3/error.hpp"
#include "time_format.hpp"
#include "xml.hpp"

namespace imgbus::s3 {
namespace {

constexpr int kMaxPartNumber = 10000;

Result<int> parse_part_number(const QueryParams& query) {
    const auto text = find_param(query, "partNumber").value_or("");
    int number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || number < 1 ||
        number > kMaxPartNumber) {
        return make_error(
            Errc::invalid_argument,
            fmt::format("partNumber '{}' must be a number from 1 to 10000", text.substr(0, 32)));
    }
    return number;
}

Result<UploadInfo> find_upload(HandlerContext& context, const Exchange& exchange) {
    return context.multipart.find(find_param(exchange.query, "uploadId").value_or(""),
                                  exchange.bucket, exchange.key);
}

// S3's ETag of a multipart object: the MD5 of the concatenated binary MD5s of its parts, then
// "-" and the number of parts.
std::string multipart_etag(const std::vector<PartInfo>& parts) {
    Digest digest(Digest::Kind::md5);
    for (const auto& part : parts) {
        std::vector<std::uint8_t> raw;
        for (std::size_t i = 0; i + 1 < part.etag.size(); i += 2) {
            raw.push_back(
                static_cast<std::uint8_t>(std::stoi(part.etag.substr(i, 2), nullptr, 16)));
        }
        digest.update(raw);
    }
    return fmt::format("{}-{}", to_hex(digest.finish()), parts.size());
}

// Matches the parts the client lists against the parts received, in S3's order of checks.
Result<std::vector<PartInfo>> select_parts(const std::vector<CompletedPart>& requested,
                                           const std::vector<PartInfo>& received,
                                           std::uint64_t min_part_bytes) {
    std::vector<PartInfo> chosen;
    for (std::size_t i = 0; i < requested.size(); ++i) {
        if (i > 0 && requested[i].part_number <= requested[i - 1].part_number) {
            return make_error(Errc::invalid_part_order,
                              "the list of parts was not in ascending order; list each part "
                              "once, sorted by part number");
        }
        auto found = std::find_if(received.begin(), received.end(), [&](const PartInfo& part) {
            return part.number == requested[i].part_number;
        });
        if (found == received.end() || found->etag != requested[i].etag) {
            return make_error(
                Errc::invalid_part,
                fmt::format("part {} with ETag '{}' was not uploaded or has "
                            "another ETag",
                            requested[i].part_number, requested[i].etag.substr(0, 64)));
        }
        chosen.push_back(*found);
    }
    for (std::size_t i = 0; i + 1 < chosen.size(); ++i) {
        if (chosen[i].size < min_part_bytes) {
            return make_error(Errc::entity_too_small,
                              fmt::format("part {} has {} bytes; every part but the last needs at "
                                          "least {}",
                                          chosen[i].number, chosen[i].size, min_part_bytes));
        }
    }
    return chosen;
}

Result<void> append_file(const std::filesystem::path& path, store::ObjectWriter& writer,
                         std::vector<std::uint8_t>& piece) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return make_error(Errc::invalid_part, "a part disappeared while the upload completed");
    }
    Result<void> result;
    while (true) {
        const auto count = ::read(fd, piece.data(), piece.size());
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            result = make_error(Errc::internal_error, "cannot read part " + path.string());
            break;
        }
        if (count == 0) break;
        if (auto written = writer.write(std::span(piece).first(static_cast<std::size_t>(count)));
            !written) {
            result = written;
            break;
        }
    }
    ::close(fd);
    return result;
}

Result<store::ObjectInfo> assemble(HandlerContext& context, const UploadInfo& upload,
                                   const std::vector<PartInfo>& parts) {
    auto options = upload.options;
    options.etag = multipart_etag(parts);
    auto writer = context.store.create_object(upload.bucket, upload.key, options);
    if (!writer) return writer.error();
    std::vector<std::uint8_t> piece(1 << 20);
    for (const auto& part : parts) {
        if (auto appended = append_file(part.path, **writer, piece); !appended) {
            return appended.error();
        }
    }
    return (*writer)->commit();
}

void write_initiator(XmlWriter& xml) {
    xml.open("Initiator").element("ID", "imgbus").element("DisplayName", "imgbus").close();
    xml.open("Owner").element("ID", "imgbus").element("DisplayName", "imgbus").close();
}

}  // namespace

awaitable<void> create_multipart_upload(HandlerContext& context, Exchange& exchange) {
    auto options = put_options_from_headers(exchange.headers);
    if (!options) co_return co_await exchange.send_error(options.error());
    if (!context.store.bucket_exists(exchange.bucket)) {
        co_return co_await exchange.send_error(make_error(
            Errc::no_such_bucket, fmt::format("the bucket '{}' does not exist", exchange.bucket)));
    }
    auto upload = context.multipart.create(exchange.bucket, exchange.key, *options);
    if (!upload) co_return co_await exchange.send_error(upload.error());
    XmlWriter xml;
    xml.open("InitiateMultipartUploadResult", true)
        .element("Bucket", exchange.bucket)
        .element("Key", exchange.key)
        .element("UploadId", upload->upload_id);
    co_await exchange.send(200, {}, xml.finish());
}

awaitable<void> upload_part(HandlerContext& context, Exchange& exchange) {
    context.count("put");
    auto number = parse_part_number(exchange.query);
    if (!number) co_return co_await exchange.send_error(number.error());
    auto upload = find_upload(context, exchange);
    if (!upload) co_return co_await exchange.send_error(upload.error());
    const auto limit = context.options.max_part_bytes;
    if (!exchange.content_length) {
        co_return co_await exchange.send_error(make_error(
            Errc::missing_content_length, "send a Content-Length header with the part size"));
    }
    if (*exchange.content_length > limit) {
        co_return co_await exchange.send_error(
            make_error(Errc::entity_too_large, fmt::format("the part has {} bytes; the limit is {}",
                                                           *exchange.content_length, limit)));
    }
    auto writer = context.multipart.begin_part(*upload, *number);
    if (!writer) co_return co_await exchange.send_error(writer.error());
    std::vector<std::uint8_t> piece(context.options.io_buffer_bytes);
    std::uint64_t total = 0;
    while (true) {
        auto received = co_await exchange.read_body(piece);
        if (!received) co_return co_await exchange.send_error(received.error());
        if (*received == 0) break;
        total += *received;
        if (auto written = (*writer)->write(std::span(piece).first(*received)); !written) {
            co_return co_await exchange.send_error(written.error());
        }
    }
    if (auto committed = (*writer)->commit(exchange.body_md5_hex()); !committed) {
        co_return co_await exchange.send_error(committed.error());
    }
    context.count_written(total);
    const HeaderList headers{{"etag", quote_etag(exchange.body_md5_hex())}};
    co_await exchange.send(200, headers, std::string());
}

awaitable<void> complete_multipart_upload(HandlerContext& context, Exchange& exchange) {
    auto upload = find_upload(context, exchange);
    if (!upload) co_return co_await exchange.send_error(upload.error());
    auto body = co_await exchange.read_small_body(context.options.max_xml_body_bytes);
    if (!body) co_return co_await exchange.send_error(body.error());
    auto requested = parse_complete_multipart(*body);
    if (!requested) co_return co_await exchange.send_error(requested.error());
    auto received = context.multipart.list_parts(*upload);
    if (!received) co_return co_await exchange.send_error(received.error());
    auto parts = select_parts(*requested, *received, context.options.min_part_bytes);
    if (!parts) co_return co_await exchange.send_error(parts.error());
    std::uint64_t total = 0;
    for (const auto& part : *parts) total += part.size;
    if (total > context.options.max_object_bytes) {
        co_return co_await exchange.send_error(make_error(
            Errc::entity_too_large, fmt::format("the parts add up to {} bytes; the limit is {}",
                                                total, context.options.max_object_bytes)));
    }

    context.count("put");
    auto stored =
        co_await run_blocking(context, [&] { return assemble(context, *upload, *parts); });
    if (!stored) co_return co_await exchange.send_error(stored.error());
    (void)context.multipart.remove(*upload);
    XmlWriter xml;
    xml.open("CompleteMultipartUploadResult", true)
        .element("Location", fmt::format("/{}/{}", exchange.bucket, uri_encode(exchange.key, true)))
        .element("Bucket", exchange.bucket)
        .element("Key", exchange.key)
        .element("ETag", quote_etag(stored->etag));
    co_await exchange.send(200, {}, xml.finish());
}

awaitable<void> abort_multipart_upload(HandlerContext& context, Exchange& exchange) {
    auto upload = find_upload(context, exchange);
    if (!upload) co_return co_await exchange.send_error(upload.error());
    if (auto removed = context.multipart.remove(*upload); !removed) {
        co_return co_await exchange.send_error(removed.error());
    }
    co_await exchange.send(204, {}, std::string());
}

awaitable<void> list_parts(HandlerContext& context, Exchange& exchange) {
    context.count("list");
    auto upload = find_upload(context, exchange);
    if (!upload) co_return co_await exchange.send_error(upload.error());
    auto parts = context.multipart.list_parts(*upload);
    if (!parts) co_return co_await exchange.send_error(parts.error());
    int marker = 0;
    std::size_t max_parts = 1000;
    if (auto text = find_param(exchange.query, "part-number-marker")) {
        std::from_chars(text->data(), text->data() + text->size(), marker);
    }
    if (auto text = find_param(exchange.query, "max-parts")) {
        std::from_chars(text->data(), text->data() + text->size(), max_parts);
        max_parts = std::clamp<std::size_t>(max_parts, 1, 1000);
    }
    XmlWriter xml;
    xml.open("ListPartsResult", true)
        .element("Bucket", exchange.bucket)
        .element("Key", exchange.key)
        .element("UploadId", upload->upload_id);
    write_initiator(xml);
    xml.element("StorageClass", "STANDARD").element("PartNumberMarker", marker);
    std::size_t listed = 0;
    int last = marker;
    bool truncated = false;
    for (const auto& part : *parts) {
        if (part.number <= marker) continue;
        if (listed == max_parts) {
            truncated = true;
            break;
        }
        ++listed;
        last = part.number;
    }
    xml.element("NextPartNumberMarker", last)
        .element("MaxParts", max_parts)
        .element("IsTruncated", truncated ? "true" : "false");
    listed = 0;
    for (const auto& part : *parts) {
        if (part.number <= marker || listed++ == max_parts) continue;
        xml.open("Part")
            .element("PartNumber", part.number)
            .element("LastModified", format_iso8601(part.last_modified))
            .element("ETag", quote_etag(part.etag))
            .element("Size", part.size)
            .close();
    }
    co_await exchange.send(200, {}, xml.finish());
}

awaitable<void> list_multipart_uploads(HandlerContext& context, Exchange& exchange) {
    context.count("list");
    if (!context.store.bucket_exists(exchange.bucket)) {
        co_return co_await exchange.send_error(make_error(
            Errc::no_such_bucket, fmt::format("the bucket '{}' does not exist", exchange.bucket)));
    }
    const auto prefix = find_param(exchange.query, "prefix").value_or("");
    const auto key_marker = find_param(exchange.query, "key-marker").value_or("");
    const bool url =
        find_param(exchange.query, "encoding-type") == std::optional<std::string>("url");
    auto encode = [url](const std::string& text) { return url ? uri_encode(text, true) : text; };
    XmlWriter xml;
    xml.open("ListMultipartUploadsResult", true)
        .element("Bucket", exchange.bucket)
        .element("KeyMarker", encode(key_marker))
        .element("UploadIdMarker", "")
        .element("Prefix", encode(prefix))
        .element("MaxUploads", 1000)
        .element("IsTruncated", "false");
    if (url) xml.element("EncodingType", "url");
    std::size_t listed = 0;
    for (const auto& upload : context.multipart.list_uploads(exchange.bucket)) {
        if (!upload.key.starts_with(prefix) || upload.key <= key_marker) continue;
        // NOTE: more than 1000 uploads in progress are cut at 1000 without a continuation marker.
        if (++listed > 1000) break;
        xml.open("Upload").element("Key", encode(upload.key)).element("UploadId", upload.upload_id);
        write_initiator(xml);
        xml.element("StorageClass", "STANDARD")
            .element("Initiated", format_iso8601(upload.initiated))
            .close();
    }
    co_await exchange.send(200, {}, xml.finish());
}

}  // namespace imgbus::s3
