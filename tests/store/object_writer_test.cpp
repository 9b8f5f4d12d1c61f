// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "imaging/test_files.hpp"
#include "imgbus/store/filesystem_store.hpp"

using imgbus::store::Errc;
using imgbus::store::FilesystemStoreOptions;
using imgbus::store::ObjectStore;
using imgbus::store::PutOptions;
namespace fs = std::filesystem;

namespace {

using WriterTempDir = imgbus::imaging::testing::TempDir;

std::unique_ptr<ObjectStore> open_store(const fs::path& root,
                                        std::uint64_t max_bytes = 5ULL << 30) {
    FilesystemStoreOptions options;
    options.fsync = false;
    options.max_object_bytes = max_bytes;
    auto store = imgbus::store::open_filesystem_store(root, options);
    REQUIRE(store->create_bucket("images").ok());
    return store;
}

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::uint8_t>(i * 31 + 7);
    return data;
}

std::size_t temp_files(const fs::path& root) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(root / ".tmp")) ++count;
    return count;
}

}  // namespace

TEST_CASE("object writer streams pieces into one object", "[store]") {
    WriterTempDir dir;
    auto store = open_store(dir.path());
    const auto data = pattern(3 * 100'000 + 17);
    PutOptions options;
    options.content_type = "image/png";
    options.metadata["origin"] = "writer";

    auto writer = store->create_object("images", "big/object.bin", options);
    REQUIRE(writer.ok());
    for (std::size_t at = 0; at < data.size(); at += 100'000) {
        const auto piece =
            std::span(data).subspan(at, std::min<std::size_t>(100'000, data.size() - at));
        REQUIRE((*writer)->write(piece).ok());
    }
    CHECK_FALSE(store->head_object("images", "big/object.bin").ok());
    auto info = (*writer)->commit();
    REQUIRE(info.ok());
    CHECK(info->size == data.size());

    auto copy = store->put_object("images", "small/copy.bin", data);
    REQUIRE(copy.ok());
    CHECK(info->etag == copy->etag);

    auto object = store->get_object("images", "big/object.bin");
    REQUIRE(object.ok());
    CHECK(object->data == data);
    CHECK(object->info.content_type == "image/png");
    CHECK(object->info.metadata.at("origin") == "writer");
}

TEST_CASE("object writer output survives reopen", "[store]") {
    WriterTempDir dir;
    const auto data = pattern(4096);
    {
        auto store = open_store(dir.path());
        auto writer = store->create_object("images", "kept");
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(data).ok());
        REQUIRE((*writer)->commit().ok());
    }
    FilesystemStoreOptions options;
    options.fsync = false;
    auto reopened = imgbus::store::open_filesystem_store(dir.path(), options);
    auto object = reopened->get_object("images", "kept");
    REQUIRE(object.ok());
    CHECK(object->data == data);
    CHECK(object->info.size == data.size());
}

TEST_CASE("uncommitted object writer leaves nothing", "[store]") {
    WriterTempDir dir;
    auto store = open_store(dir.path());
    {
        auto writer = store->create_object("images", "abandoned");
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(pattern(1000)).ok());
        CHECK(temp_files(dir.path()) == 1);
    }
    CHECK(temp_files(dir.path()) == 0);
    CHECK(store->head_object("images", "abandoned").error().code == Errc::no_such_key);
}

TEST_CASE("object writer records a given etag", "[store]") {
    WriterTempDir dir;
    auto store = open_store(dir.path());
    PutOptions options;
    options.etag = "0123456789abcdef0123456789abcdef-3";
    auto writer = store->create_object("images", "multipart", options);
    REQUIRE(writer.ok());
    REQUIRE((*writer)->write(pattern(10)).ok());
    auto info = (*writer)->commit();
    REQUIRE(info.ok());
    CHECK(info->etag == options.etag);
    CHECK(store->head_object("images", "multipart")->etag == options.etag);

    options.etag = "\"quoted\"";
    CHECK(store->create_object("images", "bad-etag", options).error().code ==
          Errc::invalid_metadata);
}

TEST_CASE("object writer enforces the size limit", "[store]") {
    WriterTempDir dir;
    auto store = open_store(dir.path(), 100);
    auto writer = store->create_object("images", "limited");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->write(pattern(60)).ok());
    auto over = (*writer)->write(pattern(41));
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().code == Errc::entity_too_large);
}

TEST_CASE("object writer checks names and bucket", "[store]") {
    WriterTempDir dir;
    auto store = open_store(dir.path());
    CHECK(store->create_object("images", "../escape").error().code == Errc::invalid_key);
    CHECK(store->create_object("missing-bucket", "key").error().code == Errc::no_such_bucket);
    CHECK(store->create_object("Bad_Bucket", "key").error().code == Errc::invalid_bucket_name);
}
