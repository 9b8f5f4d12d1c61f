// SPDX-License-Identifier: MIT
#include "session_io.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <cstring>
#include <vector>

#include "imgbus/log.hpp"

namespace imgbus::http {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

boost::system::error_code store_read_failed() {
    return boost::system::errc::make_error_code(boost::system::errc::io_error);
}

}  // namespace

asio::awaitable<boost::system::error_code> read_body_direct(boost::beast::tcp_stream& stream,
                                                            boost::beast::flat_buffer& buffer,
                                                            std::string& body, std::uint64_t length,
                                                            std::chrono::seconds timeout) {
    std::size_t have = std::min<std::size_t>(body.size(), length);
    body.resize(length);
    const auto buffered = std::min<std::size_t>(buffer.size(), length - have);
    if (buffered > 0) {
        std::memcpy(body.data() + have, buffer.data().data(), buffered);
        buffer.consume(buffered);
        have += buffered;
    }
    while (have < length) {
        stream.expires_after(timeout);
        auto [error, read] = co_await stream.async_read_some(
            asio::buffer(body.data() + have, length - have), kNoThrow);
        if (error) co_return error;
        have += read;
    }
    co_return boost::system::error_code{};
}

asio::awaitable<boost::system::error_code> write_streamed(boost::beast::tcp_stream& stream,
                                                          Reply& reply, bool head_only,
                                                          std::chrono::seconds timeout) {
    beast_http::response<beast_http::empty_body> header{std::move(reply.response.base())};
    beast_http::response_serializer<beast_http::empty_body> serializer{header};
    stream.expires_after(timeout);
    auto [header_error, header_bytes] =
        co_await beast_http::async_write_header(stream, serializer, kNoThrow);
    if (header_error || head_only) co_return header_error;

    auto& body = *reply.body;
    std::vector<std::uint8_t> piece(std::min<std::uint64_t>(body.length, kStreamPieceBytes));
    for (std::uint64_t offset = body.offset, left = body.length; left > 0;) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()));
        auto read = body.reader->read(offset, std::span(piece).first(want));
        if (!read || *read == 0) {
            const auto& info = body.reader->info();
            module_logger("http")->error(
                "streaming {}/{} stopped at byte {} of {}: {}", info.bucket, info.key, offset,
                info.size, read ? std::string("the object ended early") : read.error().message);
            co_return store_read_failed();
        }
        stream.expires_after(timeout);
        auto [write_error, written] =
            co_await asio::async_write(stream, asio::buffer(piece.data(), *read), kNoThrow);
        if (write_error) co_return write_error;
        offset += *read;
        left -= *read;
    }
    co_return boost::system::error_code{};
}

}  // namespace imgbus::http
