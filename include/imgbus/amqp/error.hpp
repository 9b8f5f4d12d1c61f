// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <system_error>

#include "imgbus/result.hpp"

namespace imgbus::amqp {

// AMQP 0-9-1 reply codes. Each value is the code sent in connection.close, channel.close or
// basic.return, so `static_cast<int>(errc)` is the wire value. Codes of 500 and above are
// connection errors; 311-406 close only the channel (312 and 313 only return the message).
enum class Errc {
    content_too_large = 311,
    no_route = 312,
    no_consumers = 313,
    connection_forced = 320,
    invalid_path = 402,
    access_refused = 403,
    not_found = 404,
    resource_locked = 405,
    precondition_failed = 406,
    frame_error = 501,
    syntax_error = 502,
    command_invalid = 503,
    channel_error = 504,
    unexpected_frame = 505,
    resource_error = 506,
    not_allowed = 530,
    not_implemented = 540,
    internal_error = 541,
};

const std::error_category& amqp_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

// The upper-case name that AMQP gives the code ("NOT_FOUND"), used in reply texts.
const char* reply_name(Errc e);

// True for the codes that close the whole connection rather than one channel.
bool is_connection_error(Errc e);

}  // namespace imgbus::amqp

template <>
struct std::is_error_code_enum<imgbus::amqp::Errc> : std::true_type {};
