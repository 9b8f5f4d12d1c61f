// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <system_error>

#include "imgbus/result.hpp"

namespace imgbus::imaging {

enum class Errc {
    empty_input = 1,
    unknown_format,   // neither JPEG nor PNG
    zero_dimension,
    too_large,        // over DecodeLimits
    truncated,
    corrupt,          // bad checksum, bad marker, decoder error
    unsupported,      // valid file the decoder cannot handle
    invalid_argument, // bad operation parameter or unknown operation
    encode_failed,
};

const std::error_category& imaging_category();
std::error_code make_error_code(Errc e);
Error make_error(Errc e, std::string message);

}  // namespace imgbus::imaging

template <>
struct std::is_error_code_enum<imgbus::imaging::Errc> : std::true_type {};
