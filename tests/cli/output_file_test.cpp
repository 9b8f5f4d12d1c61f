// SPDX-License-Identifier: MIT
// OutputFile against real folders: the temporary file, the rename, and the errors.
#include "output_file.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "imaging/test_files.hpp"

namespace fs = std::filesystem;
using imgbus::cli::OutputFile;
using TempFolder = imgbus::imaging::testing::TempDir;

namespace {

std::vector<std::uint8_t> content(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// Lowers the file size limit of this process for one scope, so that write(2) fails with EFBIG.
// SIGXFSZ, which the kernel sends with that error, is ignored meanwhile.
class FileSizeLimit {
  public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit lowered = saved_;
        lowered.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &lowered);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, previous_handler_);
    }

  private:
    rlimit saved_{};
    void (*previous_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("output file appears only on commit", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.jpg";
    auto output = OutputFile::create(path);
    REQUIRE(output.ok());
    auto& file = **output;
    CHECK(file.temporary_path().parent_path() == folder.path());
    CHECK(file.temporary_path().filename().string().starts_with(".out.jpg.tmp-imgbus-"));
    const std::vector<std::uint8_t> first = {1, 2, 3}, second = {4, 5};
    REQUIRE(file.write(first).ok());
    REQUIRE(file.write(second).ok());
    CHECK(file.bytes_written() == 5);
    CHECK_FALSE(fs::exists(path));

    REQUIRE(file.commit().ok());
    CHECK(content(path) == std::vector<std::uint8_t>{1, 2, 3, 4, 5});
    CHECK_FALSE(fs::exists(file.temporary_path()));
}

TEST_CASE("output file replaces an existing file", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.jpg";
    std::ofstream(path) << "old content";
    auto output = OutputFile::create(path);
    REQUIRE(output.ok());
    REQUIRE((*output)->write(std::vector<std::uint8_t>{9}).ok());
    REQUIRE((*output)->commit().ok());
    CHECK(content(path) == std::vector<std::uint8_t>{9});
}

TEST_CASE("output file without commit leaves nothing", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.jpg";
    {
        auto output = OutputFile::create(path);
        REQUIRE(output.ok());
        REQUIRE((*output)->write(std::vector<std::uint8_t>(100, 7)).ok());
        CHECK(fs::exists((*output)->temporary_path()));
    }
    CHECK(fs::is_empty(folder.path()));
}

TEST_CASE("output file names the folder to fix", "[cli]") {
    TempFolder folder;
    const auto file = folder / "plain-file";
    std::ofstream(file) << "x";
    // A missing folder, and a path through a regular file.
    for (const auto& path : {folder / "missing" / "out.jpg", file / "out.jpg"}) {
        INFO(path.string());
        auto output = OutputFile::create(path);
        REQUIRE_FALSE(output.ok());
        const auto& message = output.error().message;
        CHECK(message.starts_with(path.string() + ": cannot write the output file"));
        CHECK(message.ends_with("check that its folder exists and is writable"));
    }
    CHECK(fs::exists(file));
    CHECK(std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("output file rejects a folder without write permission", "[cli]") {
    TempFolder folder;
    // Root ignores the mode bits, but sysfs rejects new files from root too.
    fs::path read_only = folder.path();
    if (::geteuid() == 0) {
        read_only = "/sys";
    } else {
        fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
    }
    const auto path = read_only / "out.jpg";
    auto output = OutputFile::create(path);
    fs::permissions(folder.path(), fs::perms::owner_all);
    REQUIRE_FALSE(output.ok());
    const auto& message = output.error().message;
    CHECK(message.starts_with(path.string() + ": cannot write the output file (creating " +
                              (read_only / ".out.jpg.tmp-imgbus-").string()));
    CHECK(
        message.ends_with(" failed: Permission denied); check that its folder exists and is "
                          "writable"));
}

TEST_CASE("output file reports a failed write", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.jpg";
    std::string message;
    fs::path temporary;
    {
        auto output = OutputFile::create(path);
        REQUIRE(output.ok());
        temporary = (*output)->temporary_path();
        FileSizeLimit limit(1000);
        // The first write(2) stores 1000 bytes, the second fails with EFBIG.
        auto written = (*output)->write(std::vector<std::uint8_t>(5000, 1));
        REQUIRE_FALSE(written.ok());
        message = written.error().message;
    }
    CHECK(message.starts_with("writing " + temporary.string() + " failed: File too large"));
    CHECK(message.ends_with("check the free space of its file system"));
    CHECK(fs::is_empty(folder.path()));
}

TEST_CASE("output file temporary is unique per run", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.png";
    auto first = OutputFile::create(path);
    auto second = OutputFile::create(path);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK((*first)->temporary_path() != (*second)->temporary_path());
    REQUIRE((*first)->write(std::vector<std::uint8_t>(3000, 1)).ok());
    REQUIRE((*second)->write(std::vector<std::uint8_t>{2, 2}).ok());
    REQUIRE((*second)->commit().ok());
    REQUIRE((*first)->write(std::vector<std::uint8_t>(3000, 1)).ok());
    CHECK(content(path) == std::vector<std::uint8_t>{2, 2});
    REQUIRE((*first)->commit().ok());
    CHECK(content(path) == std::vector<std::uint8_t>(6000, 1));
    CHECK(std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("output file ignores an old temporary link", "[cli]") {
    TempFolder folder;
    const auto victim = folder / "victim.txt";
    std::ofstream(victim) << "precious data";
    fs::create_symlink(victim, folder / "out.png.tmp-imgbus");
    auto output = OutputFile::create(folder / "out.png");
    REQUIRE(output.ok());
    REQUIRE((*output)->write(std::vector<std::uint8_t>{7, 7}).ok());
    REQUIRE((*output)->commit().ok());
    CHECK(content(victim) == std::vector<std::uint8_t>{'p', 'r', 'e', 'c', 'i', 'o', 'u', 's', ' ',
                                                       'd', 'a', 't', 'a'});
    CHECK(fs::is_symlink(folder / "out.png.tmp-imgbus"));
    CHECK(content(folder / "out.png") == std::vector<std::uint8_t>{7, 7});
}

TEST_CASE("output file mode follows the umask", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.jpg";
    const mode_t saved = ::umask(027);
    auto output = OutputFile::create(path);
    ::umask(saved);
    REQUIRE(output.ok());
    REQUIRE((*output)->commit().ok());
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0640);
}

TEST_CASE("output file rejects a folder", "[cli]") {
    TempFolder folder;
    const auto path = folder / "out.jpg";
    fs::create_directory(path);
    auto output = OutputFile::create(path);
    REQUIRE_FALSE(output.ok());
    CHECK(output.error().message ==
          path.string() +
              ": cannot write the output file: Is a directory; name a file, not a folder");
    CHECK(fs::is_empty(path));
    CHECK(std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()) == 1);
}
