// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "imgbus/metrics/metrics.hpp"
#include "imgbus/result.hpp"
#include "imgbus/store/object_store.hpp"

namespace imgbus::s3 {

// The one access key pair the server accepts. The secret never appears in a log line.
struct Credentials {
    std::string access_key;
    std::string secret_key;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 9000;  // 0 picks a free port
    Credentials credentials;
    // Multipart parts and in-progress uploads live here, one folder per upload id.
    std::filesystem::path multipart_dir;
    std::uint64_t max_object_bytes = 5ULL << 30;    // S3's single PUT limit, 5 GiB
    std::uint64_t max_part_bytes = 5ULL << 30;      // S3's part limit
    std::uint64_t min_part_bytes = 5ULL << 20;      // every part but the last, as in S3
    std::uint64_t max_xml_body_bytes = 2ULL << 20;  // DeleteObjects, CompleteMultipartUpload
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_connections = 1024;
    std::size_t io_buffer_bytes = 64 * 1024;  // per connection, each direction
    std::chrono::seconds read_timeout{60};    // idle time allowed within a request
    std::chrono::seconds max_clock_skew{15 * 60};
    std::string region = "us-east-1";  // reported by GetBucketLocation
    // Accept virtual-host style requests whose Host is "<bucket>.<virtual_host_suffix>".
    std::string virtual_host_suffix;
};

// The S3-compatible HTTP API over an ObjectStore: path-style addressing (and virtual-host style
// when a suffix is set), SigV4 authentication (header, presigned URL, aws-chunked upload) and the
// bucket, object and multipart operations. Bodies stream between the socket and the store in
// io_buffer_bytes pieces; no object is held whole in memory.
class Server {
  public:
    // `metrics` may be null; otherwise store requests and bytes are counted in it.
    Server(boost::asio::io_context& io, store::ObjectStore& store, metrics::Metrics* metrics,
           ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting; returns the bound endpoint (useful with port 0). Fails when the
    // address cannot be bound or the credentials are empty.
    Result<boost::asio::ip::tcp::endpoint> start();
    // Stops accepting and closes every connection. Idempotent.
    void stop();

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace imgbus::s3
