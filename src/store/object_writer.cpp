// SPDX-License-Identifier: MIT
#include "object_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "digest.hpp"
#include "text.hpp"

namespace imgbus::store {

namespace {

std::span<const std::uint8_t> as_bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The header of `info` with the widest values its JSON can hold: the largest size, a 64-character
// ETag and the latest time, so the final header always fits in the space this one takes.
std::size_t reserved_json_bytes(ObjectInfo info) {
    info.size = std::numeric_limits<std::uint64_t>::max();
    info.etag = std::string(64, 'f');
    info.last_modified = std::chrono::system_clock::time_point::max();
    return encode_object_header(info).size() - kObjectPrefixBytes;
}

}  // namespace

FileObjectWriter::FileObjectWriter(FilesystemStore& store, ObjectInfo info, std::string etag,
                                   std::filesystem::path temp, FileHandle file,
                                   std::size_t reserved_json_bytes, std::uint64_t max_object_bytes,
                                   bool fsync)
    : store_(store),
      info_(std::move(info)),
      etag_(std::move(etag)),
      temp_(std::move(temp)),
      file_(std::move(file)),
      reserved_json_bytes_(reserved_json_bytes),
      max_object_bytes_(max_object_bytes),
      fsync_(fsync),
      md5_(std::make_unique<Md5Stream>()) {}

FileObjectWriter::~FileObjectWriter() {
    if (!done_) {
        file_.close();
        ::unlink(temp_.c_str());
    }
}

Result<std::unique_ptr<ObjectWriter>> FileObjectWriter::start(FilesystemStore& store,
                                                              ObjectInfo info, std::string etag,
                                                              std::filesystem::path temp,
                                                              std::uint64_t max_object_bytes,
                                                              bool fsync) {
    FileHandle file(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!file.valid()) {
        return io_failure("create", temp, errno);
    }
    const auto reserved = reserved_json_bytes(info);
    const std::string placeholder(kObjectPrefixBytes + reserved, ' ');
    if (auto written = write_all(file.get(), as_bytes(placeholder), temp); !written) {
        ::unlink(temp.c_str());
        return written.error();
    }
    return std::unique_ptr<ObjectWriter>(
        new FileObjectWriter(store, std::move(info), std::move(etag), std::move(temp),
                             std::move(file), reserved, max_object_bytes, fsync));
}

Result<void> FileObjectWriter::write(std::span<const std::uint8_t> data) {
    if (done_) {
        return make_error(Errc::io_error, "write after commit to " + temp_.string());
    }
    if (data.size() > max_object_bytes_ - info_.size) {
        return make_error(Errc::entity_too_large, "object " + quote_for_message(info_.key) +
                                                      " is larger than the " + "maximum of " +
                                                      std::to_string(max_object_bytes_) + " bytes");
    }
    if (auto written = write_all(file_.get(), data, temp_); !written) {
        return written;
    }
    md5_->update(data);
    info_.size += data.size();
    return {};
}

Result<ObjectInfo> FileObjectWriter::commit() {
    if (done_) {
        return make_error(Errc::io_error, "commit called twice for " + temp_.string());
    }
    const std::string md5 = md5_->finish_hex();
    info_.etag = etag_.empty() ? md5 : etag_;
    info_.last_modified =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());

    const std::string header = encode_object_header(info_, reserved_json_bytes_);
    if (header.size() != kObjectPrefixBytes + reserved_json_bytes_) {
        return make_error(Errc::io_error, "the object header outgrew its reserved space");
    }
    if (::pwrite(file_.get(), header.data(), header.size(), 0) !=
        static_cast<ssize_t>(header.size())) {
        return io_failure("write the header of", temp_, errno);
    }
    if (fsync_ && ::fsync(file_.get()) != 0) {
        return io_failure("fsync", temp_, errno);
    }
    if (file_.close() != 0) {
        return io_failure("close", temp_, errno);
    }
    if (auto committed = store_.commit_object(info_, temp_, fsync_); !committed) {
        return committed.error();  // the destructor removes the temporary file
    }
    done_ = true;
    return info_;
}

}  // namespace imgbus::store
