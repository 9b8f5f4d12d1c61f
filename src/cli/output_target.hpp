// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>

#include "imgbus/result.hpp"

namespace imgbus::cli {

// The destination of `imgbus process`'s bytes for OUT.
struct OutputTarget {
    // True when OUT is opened and written in place: a FIFO, a device, a socket, or any path that
    // passes through a /proc link such as /dev/stdout. False when a temporary file in the folder
    // of `file` is renamed over `file`.
    bool write_through = false;
    // OUT with its symbolic links resolved, or OUT itself when it is written through.
    std::filesystem::path file;
};

// Follows the symbolic links of OUT (at most 40) without creating anything. A dangling link
// resolves to the file it names. A folder is an error "Is a directory".
Result<OutputTarget> resolve_output_target(const std::filesystem::path& path);

}  // namespace imgbus::cli
