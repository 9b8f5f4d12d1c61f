// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string_view>

namespace imgbus::store {

// A run of bytes of an object.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t length = 0;
};

// What a Range request header asks of an object of a given size.
struct RangeRequest {
    enum class Kind {
        whole,          // no header, or one to ignore (another unit, several ranges, bad syntax)
        partial,        // `bytes` is the satisfiable part
        unsatisfiable,  // starts at or past the end: reply 416 with "bytes */<size>"
    };
    Kind kind = Kind::whole;
    ByteRange bytes;
};

// Resolves "bytes=a-b", "bytes=a-" or "bytes=-n" against `size`, clamping the end to the object.
// Only one range is served; a list of ranges is treated as no header, which HTTP allows.
RangeRequest resolve_range(std::string_view header, std::uint64_t size);

// Whether an If-Match or If-None-Match list names `etag` (bare hex): "*", or an entry equal to it
// quoted or bare, weak ("W/") or strong.
bool etag_listed(std::string_view header, std::string_view etag);

}  // namespace imgbus::store
