// SPDX-License-Identifier: MIT
// Opening a filesystem store: removing interrupted writes and rebuilding the index.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "digest.hpp"
#include "filesystem_store_impl.hpp"
#include "imgbus/log.hpp"

namespace imgbus::store {

namespace {

// Holds a bucket's creation time, which no object file records.
constexpr const char* kBucketMarker = ".bucket";

bool is_hex_name(const std::string& name, std::size_t length) {
    return name.size() == length && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool is_real_directory(const std::filesystem::directory_entry& entry) {
    std::error_code error;
    return entry.symlink_status(error).type() == std::filesystem::file_type::directory;
}

bool is_real_file(const std::filesystem::directory_entry& entry) {
    std::error_code error;
    return entry.symlink_status(error).type() == std::filesystem::file_type::regular;
}

}  // namespace

void FilesystemStore::recover() {
    std::filesystem::create_directories(root_);
    std::filesystem::create_directories(temp_dir_);
    std::size_t removed = remove_temp_files();

    for (const auto& entry : std::filesystem::directory_iterator(root_)) {
        std::string name = entry.path().filename().string();
        if (is_real_directory(entry) && validate_bucket_name(name).ok()) {
            load_bucket(name);
        }
    }

    std::size_t objects = 0;
    for (const auto& [name, bucket] : buckets_) {
        objects += bucket.objects.size();
    }
    module_logger("store")->info(
        "opened object store at {}: {} buckets, {} objects, {} unfinished writes removed",
        root_.string(), buckets_.size(), objects, removed);
}

// Deletes what an interrupted put_object or create_bucket left behind. Such a file was never
// renamed into place, so no reader can depend on it.
std::size_t FilesystemStore::remove_temp_files() {
    std::size_t removed = 0;
    for (const auto& entry : std::filesystem::directory_iterator(temp_dir_)) {
        std::error_code error;
        if (std::filesystem::remove(entry.path(), error)) {
            ++removed;
        } else if (error) {
            module_logger("store")->warn("failed to remove temporary file {}: {}",
                                         entry.path().string(), error.message());
        }
    }
    return removed;
}

void FilesystemStore::load_bucket(const std::string& name) {
    Bucket& bucket = buckets_[name];
    bucket.created = read_bucket_created(name);
    for (const auto& entry : std::filesystem::directory_iterator(bucket_dir(name))) {
        if (is_real_directory(entry) && is_hex_name(entry.path().filename().string(), 2)) {
            load_fan_out_dir(name, entry.path(), bucket);
        }
    }
}

// Reads the bucket marker. A bucket directory without a readable marker (one created by hand, or
// an interrupted create_bucket) gets a new marker dated now.
std::chrono::system_clock::time_point FilesystemStore::read_bucket_created(
    const std::string& name) {
    std::ifstream in(bucket_dir(name) / kBucketMarker);
    auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    auto field = json.is_object() ? json.find("created_ms") : json.end();
    if (json.is_object() && field != json.end() && field->is_number_integer()) {
        return std::chrono::system_clock::time_point(
            std::chrono::milliseconds(field->get<std::int64_t>()));
    }

    auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    if (auto written = write_bucket_marker(name, now); !written) {
        module_logger("store")->warn("bucket '{}': {}", name, written.error().message);
    }
    return now;
}

void FilesystemStore::load_fan_out_dir(const std::string& bucket,
                                       const std::filesystem::path& directory, Bucket& into) {
    auto log = module_logger("store");
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        std::string name = entry.path().filename().string();
        if (!is_real_file(entry) || !is_hex_name(name, 64)) {
            continue;
        }
        FileHandle file(::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!file.valid()) {
            log->warn("skipping object file {}: {}", entry.path().string(),
                      std::generic_category().message(errno));
            continue;
        }
        auto header = read_object_header(file.get(), bucket, entry.path());
        if (!header) {
            log->warn("skipping object file: {}", header.error().message);
            continue;
        }
        // A file whose name is not the hash of its key could never be found by that key.
        if (sha256_hex(header->info.key) != name ||
            directory.filename().string() != name.substr(0, 2)) {
            log->warn("skipping object file {}: its name does not match its key",
                      entry.path().string());
            continue;
        }
        if (is_pending_etag(header->info.etag)) {
            recovered_pending_.emplace_back(bucket, header->info.key);
        }
        into.objects[header->info.key] = std::move(header->info);
    }
}

// Writes <root>/<bucket>/.bucket with a temporary file and a rename, like an object.
Result<void> FilesystemStore::write_bucket_marker(const std::string& bucket,
                                                  std::chrono::system_clock::time_point created) {
    auto since_epoch =
        std::chrono::duration_cast<std::chrono::milliseconds>(created.time_since_epoch());
    std::string text = nlohmann::json{{"created_ms", since_epoch.count()}}.dump();
    auto temp = write_temp_file(
        {}, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    if (!temp) {
        return temp.error();
    }
    auto target = bucket_dir(bucket) / kBucketMarker;
    if (::rename(temp->c_str(), target.c_str()) != 0) {
        int error_number = errno;
        ::unlink(temp->c_str());
        return io_failure("rename " + temp->string() + " to", target, error_number);
    }
    return {};
}

}  // namespace imgbus::store
