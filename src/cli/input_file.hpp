// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "imgbus/imaging/populated_buffer.hpp"
#include "imgbus/result.hpp"

namespace imgbus::cli {

// The whole content of an input file, read once with read(2) and never copied again. A regular
// file goes into a PopulatedBuffer of its size, so the read takes no page faults and no loop
// in user space zero-fills the buffer first. A pipe or other stream is read to its end into a
// vector. Unlike a mapping of the file itself, the bytes are a private copy, so a file that
// shrinks while it is processed cannot raise SIGBUS.
class InputFile {
  public:
    std::span<const std::uint8_t> bytes() const;

  private:
    friend Result<InputFile> read_input_file(const std::filesystem::path& path,
                                             std::uint64_t max_bytes);

    imaging::PopulatedBuffer regular_;    // a regular file's bytes
    std::vector<std::uint8_t> streamed_;  // a stream's bytes
};

// Reads the file at `path`. Fails with a message that starts with the path: the file cannot be
// opened or read, it is larger than `max_bytes`, or it ends before the size it had when opened.
Result<InputFile> read_input_file(const std::filesystem::path& path, std::uint64_t max_bytes);

}  // namespace imgbus::cli
