// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "imgbus/imaging/byte_sink.hpp"
#include "imgbus/result.hpp"

namespace imgbus::cli {

// An output file. A regular or missing PATH (after its symbolic links) is written through a
// temporary file .NAME.tmp-imgbus-XXXXXX, unique to the run, in the target's folder, which
// commit() renames over the target, so it never contains half a file. Until commit() succeeds,
// the destructor removes the temporary file. A FIFO, a device or a /proc link such as
// /dev/stdout is opened and written in place instead. Writes go straight to write(2); callers
// hand over blocks, such as the encoder's 64 KiB buffer.
class OutputFile final : public imaging::ByteSink {
  public:
    // Creates the temporary file, or opens PATH when it is written in place. On failure the
    // message names PATH and the fix.
    static Result<std::unique_ptr<OutputFile>> create(const std::filesystem::path& path);

    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile() override;

    Result<void> write(std::span<const std::uint8_t> bytes) override;

    // Closes the file and renames the temporary file, if any, over the target.
    Result<void> commit();

    // Empty when PATH is written in place.
    const std::filesystem::path& temporary_path() const { return temporary_; }
    std::uint64_t bytes_written() const { return bytes_written_; }

  private:
    OutputFile(std::filesystem::path path, std::filesystem::path temporary, int fd);
    void discard();

    std::filesystem::path path_;  // the target: OUT with its symbolic links resolved
    std::filesystem::path temporary_;
    int fd_ = -1;
    std::uint64_t bytes_written_ = 0;
    bool committed_ = false;
};

}  // namespace imgbus::cli
