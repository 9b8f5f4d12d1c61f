// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <memory>

#include "digest.hpp"
#include "filesystem_store_impl.hpp"

namespace imgbus::store {

// The filesystem store's ObjectWriter. The temporary file starts with a header reserved for the
// largest size, ETag and time the object can have. Content is appended as it arrives and hashed
// with MD5. commit() overwrites the reserved header with the final one, padded with spaces to the
// same length, then fsyncs and renames the file into place as put_object does. The content is
// written once and never held in memory.
class FileObjectWriter final : public ObjectWriter {
  public:
    FileObjectWriter(FilesystemStore& store, ObjectInfo info, std::string etag,
                     std::filesystem::path temp, FileHandle file, std::size_t reserved_json_bytes,
                     std::uint64_t max_object_bytes, bool fsync);
    ~FileObjectWriter() override;

    Result<void> write(std::span<const std::uint8_t> data) override;
    Result<ObjectInfo> commit() override;

    // Creates the temporary file and writes the reserved header.
    static Result<std::unique_ptr<ObjectWriter>> start(FilesystemStore& store, ObjectInfo info,
                                                       std::string etag, std::filesystem::path temp,
                                                       std::uint64_t max_object_bytes, bool fsync);

  private:
    FilesystemStore& store_;
    ObjectInfo info_;
    std::string etag_;  // PutOptions::etag, or empty for the MD5 of the content
    std::filesystem::path temp_;
    FileHandle file_;
    std::size_t reserved_json_bytes_;
    std::uint64_t max_object_bytes_;
    bool fsync_;
    std::unique_ptr<Md5Stream> md5_;
    bool done_ = false;
};

}  // namespace imgbus::store
