// SPDX-License-Identifier: MIT
// read_input_file against real files, folders, pipes and a sparse file over the limit.
#include "input_file.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "imaging/test_files.hpp"

namespace fs = std::filesystem;
using imgbus::cli::read_input_file;
using TempFolder = imgbus::imaging::testing::TempDir;

namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

std::vector<std::uint8_t> read_with_ifstream(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    }
    return bytes;
}

// A pipe fed with `bytes` by a thread, which closes the write end after the last byte.
class FedPipe {
  public:
    explicit FedPipe(const std::vector<std::uint8_t>& bytes) {
        int ends[2];
        REQUIRE(::pipe(ends) == 0);
        read_end_ = ends[0];
        writer_ = std::thread([write_end = ends[1], &bytes] {
            std::size_t done = 0;
            while (done < bytes.size()) {
                const ssize_t count = ::write(write_end, bytes.data() + done, bytes.size() - done);
                if (count <= 0) {
                    break;
                }
                done += static_cast<std::size_t>(count);
            }
            ::close(write_end);
        });
    }
    // Drains what the reader left, so that the writer never writes to a closed pipe (SIGPIPE).
    ~FedPipe() {
        char rest[4096];
        while (::read(read_end_, rest, sizeof rest) > 0) {
        }
        ::close(read_end_);
        writer_.join();
    }

    fs::path path() const { return "/proc/self/fd/" + std::to_string(read_end_); }

  private:
    int read_end_ = -1;
    std::thread writer_;
};

}  // namespace

TEST_CASE("input file reads every byte", "[cli]") {
    const fs::path photo = fs::path(IMGBUS_TEST_DATA_DIR) / "test.jpg";
    auto input = read_input_file(photo, kGiB);
    REQUIRE(input.ok());
    const auto bytes = input->bytes();
    const auto expected = read_with_ifstream(photo);
    REQUIRE(bytes.size() == expected.size());
    CHECK(std::equal(bytes.begin(), bytes.end(), expected.begin()));
}

TEST_CASE("input file reads an empty file", "[cli]") {
    TempFolder folder;
    const auto path = folder / "empty.jpg";
    std::ofstream(path).close();
    auto input = read_input_file(path, kGiB);
    REQUIRE(input.ok());
    CHECK(input->bytes().empty());
}

TEST_CASE("input file reads a size-0 /proc file", "[cli]") {
    const fs::path path = "/proc/self/status";
    REQUIRE(fs::file_size(path) == 0);
    auto input = read_input_file(path, kGiB);
    REQUIRE(input.ok());
    const auto bytes = input->bytes();
    const std::string text(bytes.begin(), bytes.end());
    CHECK(text.starts_with("Name:"));
}

TEST_CASE("input file limits a size-0 /proc file", "[cli]") {
    auto input = read_input_file("/proc/self/status", 10);
    REQUIRE_FALSE(input.ok());
    CHECK(input.error().message ==
          "/proc/self/status: input is longer than the 10 bytes input limit; send a smaller file");
}

TEST_CASE("input file rejects a missing file", "[cli]") {
    TempFolder folder;
    const auto path = folder / "missing.jpg";
    auto input = read_input_file(path, kGiB);
    REQUIRE_FALSE(input.ok());
    CHECK(input.error().message == path.string() + ": cannot read: No such file or directory");
}

TEST_CASE("input file rejects a folder", "[cli]") {
    TempFolder folder;
    auto input = read_input_file(folder.path(), kGiB);
    REQUIRE_FALSE(input.ok());
    CHECK(input.error().message == folder.path().string() + ": cannot read: Is a directory");
}

TEST_CASE("input file rejects a sparse file over 1 GiB", "[cli]") {
    TempFolder folder;
    const auto path = folder / "huge.jpg";
    std::ofstream(path).close();
    fs::resize_file(path, kGiB + 1);  // sparse: no blocks are written
    auto input = read_input_file(path, kGiB);
    REQUIRE_FALSE(input.ok());
    CHECK(input.error().message == path.string() +
                                       ": file is 1073741825 bytes, over the 1 GiB input limit; "
                                       "send a smaller file");
}

TEST_CASE("input file accepts a file of exactly the limit", "[cli]") {
    TempFolder folder;
    const auto path = folder / "limit.bin";
    const auto bytes = pattern(5000);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(5000));
    auto exact = read_input_file(path, 5000);
    REQUIRE(exact.ok());
    CHECK(exact->bytes().size() == 5000);
    auto over = read_input_file(path, 4999);
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().message ==
          path.string() +
              ": file is 5000 bytes, over the 4999 bytes input limit; send a smaller "
              "file");
}

TEST_CASE("input file reads a pipe to its end", "[cli]") {
    // More than the 64 KiB of a pipe's buffer and of one read chunk, and no multiple of either.
    const auto bytes = pattern(200 * 1024 + 123);
    FedPipe pipe(bytes);
    auto input = read_input_file(pipe.path(), kGiB);
    REQUIRE(input.ok());
    const auto read = input->bytes();
    REQUIRE(read.size() == bytes.size());
    CHECK(std::equal(read.begin(), read.end(), bytes.begin()));
}

TEST_CASE("input file stops a pipe at the limit", "[cli]") {
    const auto bytes = pattern(200 * 1024);
    FedPipe pipe(bytes);
    auto input = read_input_file(pipe.path(), 1000);
    REQUIRE_FALSE(input.ok());
    CHECK(input.error().message == pipe.path().string() +
                                       ": input is longer than the 1000 bytes input limit; send "
                                       "a smaller file");
}
