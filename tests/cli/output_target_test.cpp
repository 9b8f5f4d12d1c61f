// SPDX-License-Identifier: MIT
// OutputFile with OUT a FIFO, a device, a /proc link or a symbolic link: written in place or
// through the link, never replaced. Every special file is a stand-in in a temporary folder.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
#include "output_file.hpp"

namespace fs = std::filesystem;
using imgbus::cli::OutputFile;
using TempFolder = imgbus::imaging::testing::TempDir;

namespace {

const std::vector<std::uint8_t> kBytes = {1, 2, 3, 4, 5};

std::vector<std::uint8_t> content(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_and_commit(const fs::path& path) {
    auto output = OutputFile::create(path);
    REQUIRE(output.ok());
    REQUIRE((*output)->write(kBytes).ok());
    REQUIRE((*output)->commit().ok());
}

std::size_t entries(const TempFolder& folder) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("output file writes into a FIFO", "[cli]") {
    TempFolder folder;
    const auto fifo = folder / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::vector<std::uint8_t> received;
    std::thread reader([&] { received = content(fifo); });
    write_and_commit(fifo);
    reader.join();
    CHECK(received == kBytes);
    CHECK(fs::is_fifo(fifo));
    CHECK(entries(folder) == 1);
}

TEST_CASE("output file writes into a character device", "[cli]") {
    if (::geteuid() != 0) {
        WARN("mknod needs root; the character device case is not run");
        return;
    }
    TempFolder folder;
    const auto device = folder / "null";
    REQUIRE(::mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    write_and_commit(device);
    CHECK(fs::is_character_file(device));
    CHECK(entries(folder) == 1);
}

TEST_CASE("output file writes through /proc links", "[cli]") {
    TempFolder folder;
    const auto file = folder / "open.bin";
    std::ofstream(file) << "older and longer content";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    struct stat before {};
    REQUIRE(::fstat(fd, &before) == 0);
    const auto number = std::to_string(fd);
    fs::path out, link;
    SECTION("a link to /proc/self/fd/N, like /dev/stdout") {
        link = folder / "stdout";
        fs::create_symlink("/proc/self/fd/" + number, link);
        out = link;
    }
    SECTION("a name in a folder link to /proc/self/fd, like /dev/fd/N") {
        link = folder / "fd";
        fs::create_directory_symlink("/proc/self/fd", link);
        out = link / number;
    }
    write_and_commit(out);
    ::close(fd);
    struct stat after {};
    REQUIRE(::stat(file.c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    CHECK(content(file) == kBytes);
    CHECK(entries(folder) == 2);
    CHECK(fs::is_symlink(link));
}

TEST_CASE("output file keeps a symbolic link", "[cli]") {
    TempFolder folder;
    fs::create_directory(folder / "real");
    const auto target = folder / "real" / "target.jpg";
    const auto link = folder / "link.jpg";
    SECTION("an existing target") { std::ofstream(target) << "old"; }
    SECTION("a missing target") {}
    fs::create_symlink("real/target.jpg", link);
    write_and_commit(link);
    CHECK(fs::is_symlink(link));
    CHECK(content(target) == kBytes);
    CHECK(entries(folder) == 2);
    CHECK(std::distance(fs::directory_iterator(folder / "real"), fs::directory_iterator()) == 1);
}
