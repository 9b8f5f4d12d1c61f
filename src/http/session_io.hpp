// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>

#include "response.hpp"

namespace imgbus::http {

// Reads the rest of a body of known length straight from the socket into `body`, after the
// bytes the header read left in `buffer`. Going past Beast's parser copies each uploaded byte
// once, from the kernel into the body, instead of into the read buffer and then the body.
// `timeout` bounds the silence between two pieces, not the whole upload.
boost::asio::awaitable<boost::system::error_code> read_body_direct(
    boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer, std::string& body,
    std::uint64_t length, std::chrono::seconds timeout);

// Writes the header of `reply`, then (unless `head_only`) its streamed body: each piece is read
// from the store into one buffer of at most kStreamPieceBytes and written out before the next
// is read, so a slow reader holds that buffer and no more. `timeout` bounds each piece's write.
// Returns the first read or write error; a failed read also ends the connection, because the
// client then sees a body shorter than Content-Length.
boost::asio::awaitable<boost::system::error_code> write_streamed(boost::beast::tcp_stream& stream,
                                                                 Reply& reply, bool head_only,
                                                                 std::chrono::seconds timeout);

inline constexpr std::size_t kStreamPieceBytes = 256 * 1024;

}  // namespace imgbus::http
