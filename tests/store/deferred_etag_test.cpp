// SPDX-License-Identifier: MIT
// Deferred ETags: a put that skips the MD5, and the reads and the idle thread that compute it.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "imaging/test_files.hpp"
#include "imgbus/store/filesystem_store.hpp"

using imgbus::store::FilesystemStoreOptions;
using imgbus::store::ObjectStore;
using imgbus::store::PutOptions;
namespace fs = std::filesystem;

namespace {

constexpr const char* kHelloMd5 = "5d41402abc4b2a76b9719d911017c592";  // md5sum of "hello"
constexpr const char* kWorldMd5 = "7d793037a0760186574b0282f2f435e7";  // md5sum of "world"

using imgbus::imaging::testing::TempDir;

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

std::unique_ptr<ObjectStore> open_store(const fs::path& root, bool backfill) {
    FilesystemStoreOptions options;
    options.fsync = false;
    options.backfill_etags = backfill;
    auto store = imgbus::store::open_filesystem_store(root, options);
    REQUIRE(store->ensure_bucket("images").ok());
    return store;
}

PutOptions deferred() {
    PutOptions options;
    options.defer_etag = true;
    return options;
}

// Returns the ETag written in the header of an object file.
std::string etag_in_file_at(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find("\"etag\":\"");
    return at == std::string::npos ? std::string() : text.substr(at + 8, 32);
}

// Returns the ETag written in the header of the only object file of the bucket.
std::string etag_in_file(const fs::path& root) {
    for (const auto& entry : fs::recursive_directory_iterator(root / "images")) {
        if (!entry.is_regular_file() || entry.path().filename() == ".bucket") continue;
        return etag_in_file_at(entry.path());
    }
    return {};
}

void overwrite_etag_in_file(const fs::path& root, const std::string& etag) {
    for (const auto& entry : fs::recursive_directory_iterator(root / "images")) {
        if (!entry.is_regular_file() || entry.path().filename() == ".bucket") continue;
        std::fstream file(entry.path(), std::ios::binary | std::ios::in | std::ios::out);
        std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        file.seekp(static_cast<std::streamoff>(text.find("\"etag\":\"") + 8));
        file.write(etag.data(), static_cast<std::streamsize>(etag.size()));
    }
}

}  // namespace

bool is_placeholder(const std::string& etag) {
    return etag.size() == 32 && etag.find_first_not_of("ghijklmnopqrstuv") == std::string::npos;
}

// Polls the object's file until its header contains `etag`, for at most ten seconds.
bool wait_for_etag_in_file(const fs::path& root, const std::string& etag) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (etag_in_file(root) != etag) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

TEST_CASE("deferred etag computed on head", "[store][etag]") {
    TempDir dir;
    auto store = open_store(dir.path(), false);
    auto put = store->put_object("images", "a.jpg", bytes("hello"), deferred());
    REQUIRE(put.ok());
    CHECK(put->etag.empty());
    CHECK(is_placeholder(etag_in_file(dir.path())));

    auto object = store->get_object("images", "a.jpg");
    REQUIRE(object.ok());
    CHECK(object->info.etag.empty());

    auto head = store->head_object("images", "a.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == kHelloMd5);
    CHECK(etag_in_file(dir.path()) == kHelloMd5);
}

TEST_CASE("deferred etag listed empty on request", "[store][etag]") {
    TempDir dir;
    auto store = open_store(dir.path(), false);
    REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    imgbus::store::ListOptions options;
    options.fill_etags = false;
    auto listed = store->list_objects("images", options);
    REQUIRE(listed.ok());
    REQUIRE(listed->objects.size() == 1);
    CHECK(listed->objects[0].etag.empty());
    CHECK(is_placeholder(etag_in_file(dir.path())));
}

TEST_CASE("deferred etag removed file unlisted", "[store][etag]") {
    TempDir dir;
    auto store = open_store(dir.path(), false);
    REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    REQUIRE(store->put_object("images", "b.jpg", bytes("world"), deferred()).ok());
    // Removing a.jpg's file behind the store's back acts like a delete that lands after the
    // listing read the index and before it computed the ETags.
    auto head = store->head_object("images", "b.jpg");
    REQUIRE(head.ok());
    for (const auto& entry : fs::recursive_directory_iterator(dir.path() / "images")) {
        if (entry.is_regular_file() && etag_in_file_at(entry.path()) != kWorldMd5 &&
            entry.path().filename() != ".bucket") {
            fs::remove(entry.path());
        }
    }
    auto listed = store->list_objects("images", {});
    REQUIRE(listed.ok());
    REQUIRE(listed->objects.size() == 1);
    CHECK(listed->objects[0].key == "b.jpg");
    CHECK(listed->objects[0].etag == kWorldMd5);
}

TEST_CASE("deferred etag open and list", "[store][etag]") {
    TempDir dir;
    auto store = open_store(dir.path(), false);
    REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    auto listed = store->list_objects("images", {});
    REQUIRE(listed.ok());
    REQUIRE(listed->objects.size() == 1);
    CHECK(listed->objects[0].etag == kHelloMd5);

    REQUIRE(store->put_object("images", "a.jpg", bytes("world"), deferred()).ok());
    auto reader = store->open_object("images", "a.jpg");
    REQUIRE(reader.ok());
    CHECK((*reader)->info().etag == kWorldMd5);
    auto head = store->head_object("images", "a.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == kWorldMd5);
}

TEST_CASE("deferred etag survives a reopen", "[store][etag]") {
    TempDir dir;
    {
        auto store = open_store(dir.path(), false);
        REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    }
    auto store = open_store(dir.path(), false);
    auto head = store->head_object("images", "a.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == kHelloMd5);
}

TEST_CASE("deferred etag queued on reopen", "[store][etag]") {
    TempDir dir;
    {
        auto store = open_store(dir.path(), false);
        REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    }
    REQUIRE(is_placeholder(etag_in_file(dir.path())));
    auto store = open_store(dir.path(), true);
    CHECK(wait_for_etag_in_file(dir.path(), kHelloMd5));
}

TEST_CASE("deferred etag half written is recomputed", "[store][etag]") {
    TempDir dir;
    {
        auto store = open_store(dir.path(), false);
        REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    }
    // The first half of the MD5 over the placeholder, as a crash during its write could leave.
    overwrite_etag_in_file(dir.path(), std::string(kHelloMd5).substr(0, 16));
    auto store = open_store(dir.path(), false);
    auto head = store->head_object("images", "a.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == kHelloMd5);
    CHECK(etag_in_file(dir.path()) == kHelloMd5);
}

TEST_CASE("deferred etag filled by idle thread", "[store][etag]") {
    TempDir dir;
    auto store = open_store(dir.path(), true);
    REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), deferred()).ok());
    CHECK(wait_for_etag_in_file(dir.path(), kHelloMd5));
    auto head = store->head_object("images", "a.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == kHelloMd5);
}

TEST_CASE("deferred etag yields to explicit", "[store][etag]") {
    TempDir dir;
    auto store = open_store(dir.path(), false);
    auto options = deferred();
    options.etag = "0123456789abcdef0123456789abcdef-2";
    REQUIRE(store->put_object("images", "a.jpg", bytes("hello"), options).ok());
    auto object = store->get_object("images", "a.jpg");
    REQUIRE(object.ok());
    CHECK(object->info.etag == options.etag);
    auto head = store->head_object("images", "a.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == options.etag);
}
