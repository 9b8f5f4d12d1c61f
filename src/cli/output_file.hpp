// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "imgbus/imaging/byte_sink.hpp"
#include "imgbus/result.hpp"

namespace imgbus::cli {

// An output file written through a temporary file PATH.tmp-imgbus in the same folder, which
// commit() renames over PATH, so PATH never contains half a file. Until commit() succeeds, the
// destructor removes the temporary file. Writes go straight to write(2); callers hand over
// blocks, such as the encoder's 64 KiB buffer.
class OutputFile final : public imaging::ByteSink {
  public:
    // Creates the temporary file. On failure the message names PATH and asks the user to check
    // that its folder exists and is writable.
    static Result<std::unique_ptr<OutputFile>> create(const std::filesystem::path& path);

    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile() override;

    Result<void> write(std::span<const std::uint8_t> bytes) override;

    // Closes the temporary file and renames it to PATH.
    Result<void> commit();

    const std::filesystem::path& temporary_path() const { return temporary_; }
    std::uint64_t bytes_written() const { return bytes_written_; }

  private:
    OutputFile(std::filesystem::path path, std::filesystem::path temporary, int fd);
    void discard();

    std::filesystem::path path_;
    std::filesystem::path temporary_;
    int fd_ = -1;
    std::uint64_t bytes_written_ = 0;
    bool committed_ = false;
};

}  // namespace imgbus::cli
