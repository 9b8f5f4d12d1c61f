// SPDX-License-Identifier: MIT
#include "imgbus/store/filesystem_store.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "imaging/test_files.hpp"

using imgbus::store::Errc;
using imgbus::store::FilesystemStoreOptions;
using imgbus::store::ListOptions;
using imgbus::store::ObjectStore;
using imgbus::store::PutOptions;
namespace fs = std::filesystem;

namespace {

using imgbus::imaging::testing::TempDir;

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

std::string text_of(const std::vector<std::uint8_t>& data) { return {data.begin(), data.end()}; }

FilesystemStoreOptions fast_options() {
    FilesystemStoreOptions options;
    options.fsync = false;
    return options;
}

std::unique_ptr<ObjectStore> open_with_bucket(const fs::path& root,
                                              FilesystemStoreOptions options = fast_options()) {
    auto store = imgbus::store::open_filesystem_store(root, options);
    REQUIRE(store->create_bucket("images").ok());
    return store;
}

std::vector<fs::path> regular_files_under(const fs::path& root) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    return files;
}

}  // namespace

TEST_CASE("put get head delete round trip", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path(), FilesystemStoreOptions{});
    PutOptions options;
    options.content_type = "image/png";
    options.metadata = {{"threads", "4"}, {"source", "upload"}};

    auto put = store->put_object("images", "in/cat.png", bytes("pixels"), options);
    REQUIRE(put.ok());
    CHECK(put->size == 6);
    CHECK(put->bucket == "images");

    auto got = store->get_object("images", "in/cat.png");
    REQUIRE(got.ok());
    CHECK(text_of(got->data) == "pixels");
    CHECK(got->info.content_type == "image/png");
    CHECK(got->info.metadata == options.metadata);
    CHECK(got->info.etag == put->etag);
    CHECK(got->info.last_modified == put->last_modified);

    auto head = store->head_object("images", "in/cat.png");
    REQUIRE(head.ok());
    CHECK(head->size == 6);
    CHECK(head->metadata.at("threads") == "4");

    REQUIRE(store->delete_object("images", "in/cat.png").ok());
    CHECK(store->get_object("images", "in/cat.png").error().code == Errc::no_such_key);
    CHECK(store->head_object("images", "in/cat.png").error().code == Errc::no_such_key);
    CHECK(store->delete_object("images", "in/cat.png").ok());
    CHECK(store->list_objects("images")->objects.empty());
}

TEST_CASE("etag is the md5 of the content", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    auto fox =
        store->put_object("images", "fox", bytes("The quick brown fox jumps over the lazy dog"));
    REQUIRE(fox.ok());
    CHECK(fox->etag == "9e107d9d372bb6826bd81d3542a419d6");
    auto empty = store->put_object("images", "empty", {});
    REQUIRE(empty.ok());
    CHECK(empty->etag == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(empty->size == 0);
    auto got = store->get_object("images", "empty");
    REQUIRE(got.ok());
    CHECK(got->data.empty());
    CHECK(got->info.content_type == "application/octet-stream");
}

TEST_CASE("overwrite replaces content and metadata", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    PutOptions first;
    first.metadata = {{"version", "1"}};
    REQUIRE(store->put_object("images", "k", bytes("old content"), first).ok());
    PutOptions second;
    second.content_type = "text/plain";
    REQUIRE(store->put_object("images", "k", bytes("new"), second).ok());

    auto got = store->get_object("images", "k");
    REQUIRE(got.ok());
    CHECK(text_of(got->data) == "new");
    CHECK(got->info.metadata.empty());
    CHECK(got->info.content_type == "text/plain");
    CHECK(store->list_objects("images")->objects.size() == 1);
    CHECK(regular_files_under(dir.path() / "images").size() == 2);  // the object and the marker
}

TEST_CASE("list honours prefix start_after max_keys", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    for (std::string key : {"b/2", "a/1", "b/1", "c", "b/3", "b"}) {
        REQUIRE(store->put_object("images", key, bytes(key)).ok());
    }

    auto all = store->list_objects("images");
    REQUIRE(all.ok());
    REQUIRE(all->objects.size() == 6);
    CHECK(all->objects[0].key == "a/1");
    CHECK(all->objects[1].key == "b");
    CHECK(all->objects[5].key == "c");
    CHECK_FALSE(all->truncated);

    ListOptions page;
    page.prefix = "b/";
    page.max_keys = 2;
    auto first = store->list_objects("images", page);
    REQUIRE(first.ok());
    REQUIRE(first->objects.size() == 2);
    CHECK(first->objects[0].key == "b/1");
    CHECK(first->objects[1].key == "b/2");
    CHECK(first->truncated);

    page.start_after = first->objects.back().key;
    auto second = store->list_objects("images", page);
    REQUIRE(second.ok());
    REQUIRE(second->objects.size() == 1);
    CHECK(second->objects[0].key == "b/3");
    CHECK_FALSE(second->truncated);

    ListOptions before_prefix;
    before_prefix.prefix = "b/";
    before_prefix.start_after = "a";
    CHECK(store->list_objects("images", before_prefix)->objects.size() == 3);

    ListOptions none;
    none.max_keys = 0;
    auto zero = store->list_objects("images", none);
    REQUIRE(zero.ok());
    CHECK(zero->objects.empty());
    CHECK(zero->truncated);
}

TEST_CASE("reopen rebuilds the index", "[store]") {
    TempDir dir;
    imgbus::store::ObjectInfo before;
    std::chrono::system_clock::time_point created;
    {
        auto store = open_with_bucket(dir.path());
        REQUIRE(store->create_bucket("empty-bucket").ok());
        PutOptions options;
        options.content_type = "image/jpeg";
        options.metadata = {{"k", "v"}};
        auto put = store->put_object("images", "x/y.jpg", bytes("jpeg bytes"), options);
        REQUIRE(put.ok());
        before = *put;
        REQUIRE(store->put_object("images", "z", bytes("zz")).ok());
        created = store->list_buckets()->at(1).created;
    }

    auto store = imgbus::store::open_filesystem_store(dir.path(), fast_options());
    auto buckets = store->list_buckets();
    REQUIRE(buckets.ok());
    REQUIRE(buckets->size() == 2);
    CHECK((*buckets)[0].name == "empty-bucket");
    CHECK((*buckets)[1].name == "images");
    CHECK((*buckets)[1].created == created);

    auto head = store->head_object("images", "x/y.jpg");
    REQUIRE(head.ok());
    CHECK(head->etag == before.etag);
    CHECK(head->size == before.size);
    CHECK(head->content_type == "image/jpeg");
    CHECK(head->metadata == before.metadata);
    CHECK(head->last_modified == before.last_modified);
    CHECK(store->list_objects("images")->objects.size() == 2);
    CHECK(text_of(store->get_object("images", "z")->data) == "zz");
}

TEST_CASE("unsynced puts stay readable", "[store]") {
    TempDir dir;
    FilesystemStoreOptions syncing;
    REQUIRE(syncing.fsync);
    PutOptions unsynced;
    unsynced.content_type = "application/json";
    unsynced.sync = false;
    // Keys spread over several <hh> folders, so most of these puts create their folder.
    std::vector<std::string> keys;
    for (int i = 0; i < 8; ++i) keys.push_back("batches/b" + std::to_string(i) + ".published");
    {
        auto store = open_with_bucket(dir.path(), syncing);
        for (const auto& key : keys) {
            REQUIRE(store->put_object("images", key, bytes("marker " + key), unsynced).ok());
        }
        auto writer = store->create_object("images", "streamed", unsynced);
        REQUIRE(writer.ok());
        REQUIRE((*writer)->write(bytes("in pieces")).ok());
        REQUIRE((*writer)->commit().ok());

        auto got = store->get_object("images", keys[0]);
        REQUIRE(got.ok());
        CHECK(text_of(got->data) == "marker " + keys[0]);
        CHECK(got->info.content_type == "application/json");
        CHECK(fs::is_empty(dir.path() / ".tmp"));
    }

    auto store = imgbus::store::open_filesystem_store(dir.path(), syncing);
    CHECK(store->list_objects("images")->objects.size() == keys.size() + 1);
    for (const auto& key : keys) {
        auto got = store->get_object("images", key);
        REQUIRE(got.ok());
        CHECK(text_of(got->data) == "marker " + key);
    }
    CHECK(text_of(store->get_object("images", "streamed")->data) == "in pieces");
}

TEST_CASE("open removes leftover temp files and skips corrupt ones", "[store]") {
    TempDir dir;
    {
        auto store = open_with_bucket(dir.path());
        REQUIRE(store->put_object("images", "good", bytes("fine")).ok());
    }
    std::ofstream(dir.path() / ".tmp" / "interrupted.tmp") << "half an object";
    // An object file cut short, as a crash of a store without rename would leave it.
    auto good_file = regular_files_under(dir.path() / "images");
    fs::path object_file;
    for (const auto& file : good_file) {
        if (file.filename() != ".bucket") {
            object_file = file;
        }
    }
    REQUIRE_FALSE(object_file.empty());
    fs::create_directories(dir.path() / "images" / "aa");
    fs::copy_file(object_file, dir.path() / "images" / "aa" / std::string(64, 'a'));
    fs::resize_file(dir.path() / "images" / "aa" / std::string(64, 'a'), 20);
    // A well-formed file stored under the wrong name.
    fs::create_directories(dir.path() / "images" / "bb");
    fs::copy_file(object_file, dir.path() / "images" / "bb" / std::string(64, 'b'));

    auto store = imgbus::store::open_filesystem_store(dir.path(), fast_options());
    CHECK(fs::is_empty(dir.path() / ".tmp"));
    auto listed = store->list_objects("images");
    REQUIRE(listed.ok());
    REQUIRE(listed->objects.size() == 1);
    CHECK(listed->objects[0].key == "good");
    CHECK(text_of(store->get_object("images", "good")->data) == "fine");
}

TEST_CASE("hostile keys never leave the root", "[store]") {
    TempDir dir;
    auto root = dir.path() / "root";
    auto store = open_with_bucket(root);
    for (const std::string& key :
         std::vector<std::string>{"..", "a/../b", "/x", "../../escape", std::string("nul\0x", 5),
                                  std::string(1025, 'k'), std::string("\xff\xfe")}) {
        CAPTURE(key);
        auto put = store->put_object("images", key, bytes("x"));
        REQUIRE_FALSE(put.ok());
        CHECK(put.error().code == Errc::invalid_key);
        CHECK_THAT(put.error().message, Catch::Contains("invalid object key"));
        CHECK(store->get_object("images", key).error().code == Errc::invalid_key);
        CHECK(store->delete_object("images", key).error().code == Errc::invalid_key);
    }

    const std::string unicode = "f\xc3\xbcr/\xe6\x97\xa5\xe6\x9c\xac.png";
    for (const std::string& key : {std::string("a//b"), unicode}) {
        CAPTURE(key);
        REQUIRE(store->put_object("images", key, bytes(key)).ok());
        CHECK(text_of(store->get_object("images", key)->data) == key);
    }
    CHECK_FALSE(fs::exists(dir.path() / "escape"));
    CHECK_FALSE(fs::exists(dir.path() / "x"));
    for (const auto& file : regular_files_under(dir.path())) {
        auto relative = fs::relative(file, root);
        CAPTURE(file);
        CHECK_FALSE(relative.empty());
        CHECK(relative.begin()->string() != "..");
    }
}

TEST_CASE("bucket names are checked on create", "[store]") {
    TempDir dir;
    auto store = imgbus::store::open_filesystem_store(dir.path(), fast_options());
    for (const std::string& name : std::vector<std::string>{
             "ab", "UPPER", "a..b", "192.168.0.1", "-abc", std::string(64, 'a'),
             std::string(".tmp"), std::string("../up")}) {
        CAPTURE(name);
        auto created = store->create_bucket(name);
        REQUIRE_FALSE(created.ok());
        CHECK(created.error().code == Errc::invalid_bucket_name);
    }
    CHECK(store->list_buckets()->empty());
}

TEST_CASE("bucket lifecycle and errors", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    CHECK(store->bucket_exists("images"));
    CHECK(store->create_bucket("images").error().code == Errc::bucket_already_exists);
    CHECK(store->ensure_bucket("images").ok());
    CHECK(store->ensure_bucket("results").ok());
    CHECK(store->bucket_exists("results"));

    REQUIRE(store->put_object("images", "k", bytes("v")).ok());
    auto busy = store->delete_bucket("images");
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == Errc::bucket_not_empty);
    CHECK_THAT(busy.error().message, Catch::Contains("'images'"));
    REQUIRE(store->delete_object("images", "k").ok());
    REQUIRE(store->delete_bucket("images").ok());
    CHECK_FALSE(store->bucket_exists("images"));
    CHECK_FALSE(fs::exists(dir.path() / "images"));

    CHECK(store->delete_bucket("images").error().code == Errc::no_such_bucket);
    CHECK(store->put_object("images", "k", bytes("v")).error().code == Errc::no_such_bucket);
    CHECK(store->get_object("images", "k").error().code == Errc::no_such_bucket);
    CHECK(store->head_object("images", "k").error().code == Errc::no_such_bucket);
    CHECK(store->delete_object("images", "k").error().code == Errc::no_such_bucket);
    CHECK(store->list_objects("images").error().code == Errc::no_such_bucket);
    auto missing = store->get_object("results", "nope");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == Errc::no_such_key);
    CHECK_THAT(missing.error().message, Catch::Contains("'nope'"));
    CHECK_THAT(missing.error().message, Catch::Contains("'results'"));
}

TEST_CASE("objects over the limit are rejected", "[store]") {
    TempDir dir;
    auto options = fast_options();
    options.max_object_bytes = 10;
    auto store = open_with_bucket(dir.path(), options);
    CHECK(store->put_object("images", "fits", bytes("0123456789")).ok());
    auto large = store->put_object("images", "large", bytes("0123456789a"));
    REQUIRE_FALSE(large.ok());
    CHECK(large.error().code == Errc::entity_too_large);
    CHECK_THAT(large.error().message, Catch::Contains("11 bytes; the maximum is 10"));
    CHECK(store->head_object("images", "large").error().code == Errc::no_such_key);
}

TEST_CASE("metadata limits are enforced", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    PutOptions big;
    big.metadata = {{"a", std::string(2048, 'x')}};
    CHECK(store->put_object("images", "k", bytes("v"), big).error().code ==
          Errc::metadata_too_large);
    PutOptions bad_value;
    bad_value.metadata = {{"name", "\xff"}};
    auto rejected = store->put_object("images", "k", bytes("v"), bad_value);
    REQUIRE_FALSE(rejected.ok());
    CHECK(rejected.error().code == Errc::invalid_metadata);
    CHECK_THAT(rejected.error().message, Catch::Contains("'\\xff'"));
    PutOptions bad_type;
    bad_type.content_type = std::string("image/\0png", 10);
    CHECK(store->put_object("images", "k", bytes("v"), bad_type).error().code ==
          Errc::invalid_metadata);
    PutOptions fits;
    fits.metadata = {{"a", std::string(2047, 'x')}};
    CHECK(store->put_object("images", "k", bytes("v"), fits).ok());
}

TEST_CASE("object reader reads pieces of one version", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    REQUIRE(store->put_object("images", "k", bytes("0123456789")).ok());
    auto reader = store->open_object("images", "k");
    REQUIRE(reader.ok());
    REQUIRE(store->put_object("images", "k", bytes("abc")).ok());
    REQUIRE(store->delete_object("images", "k").ok());

    CHECK((*reader)->info().size == 10);
    std::vector<std::uint8_t> piece(4);
    auto got = (*reader)->read(3, piece);
    REQUIRE(got.ok());
    CHECK(*got == 4);
    CHECK(text_of(piece) == "3456");
    got = (*reader)->read(8, piece);
    REQUIRE(got.ok());
    CHECK(*got == 2);
    CHECK(piece[0] == '8');
    got = (*reader)->read(10, piece);
    REQUIRE(got.ok());
    CHECK(*got == 0);
    CHECK(store->open_object("images", "k").error().code == Errc::no_such_key);
}

TEST_CASE("readers never see a mixed object", "[store]") {
    TempDir dir;
    auto store = open_with_bucket(dir.path());
    const std::vector<std::uint8_t> small(64 * 1024, 'a');
    const std::vector<std::uint8_t> large(256 * 1024, 'b');
    REQUIRE(store->put_object("images", "k", small).ok());

    std::atomic<bool> writing{true};
    std::atomic<int> reads{0};
    std::atomic<int> mixed{0};
    std::thread reader([&] {
        while (writing) {
            auto got = store->get_object("images", "k");
            if (!got.ok()) {
                ++mixed;
                continue;
            }
            const auto& expected = got->info.size == small.size() ? small : large;
            if (got->data != expected || got->info.etag.size() != 32) {
                ++mixed;
            }
            ++reads;
        }
    });
    for (int i = 0; i < 200; ++i) {
        REQUIRE(store->put_object("images", "k", i % 2 == 0 ? large : small).ok());
    }
    writing = false;
    reader.join();
    CHECK(mixed == 0);
    CHECK(reads > 0);
}

TEST_CASE("concurrent puts keep index and file in step", "[store]") {
    TempDir dir;
    {
        auto store = open_with_bucket(dir.path());
        std::vector<std::thread> writers;
        std::atomic<int> failures{0};  // Catch2 assertions are not thread-safe
        for (int t = 0; t < 4; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < 50; ++i) {
                    std::string body =
                        "writer " + std::to_string(t) + " round " + std::to_string(i);
                    if (!store->put_object("images", "shared", bytes(body)).ok()) {
                        ++failures;
                    }
                }
            });
        }
        for (auto& writer : writers) {
            writer.join();
        }
        CHECK(failures == 0);
        auto head = store->head_object("images", "shared");
        auto got = store->get_object("images", "shared");
        REQUIRE(head.ok());
        REQUIRE(got.ok());
        CHECK(head->etag == got->info.etag);
        CHECK(head->size == got->data.size());
    }
    auto reopened = imgbus::store::open_filesystem_store(dir.path(), fast_options());
    CHECK(reopened->list_objects("images")->objects.size() == 1);
    CHECK(fs::is_empty(dir.path() / ".tmp"));
}
