// SPDX-License-Identifier: MIT
// The store root carries ext4's "top of directory hierarchy" attribute where the filesystem
// supports it, so that the temporary folder gets a block group of its own.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "imgbus/store/filesystem_store.hpp"

namespace fs = std::filesystem;

namespace {

// Returns the inode flags of a folder, or -1 when the filesystem has none to report.
int folder_flags(const fs::path& folder) {
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int flags = 0;
    const bool ok = fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    if (fd >= 0) ::close(fd);
    return ok ? flags : -1;
}

// Returns true when this filesystem keeps the attribute after it is set on a folder.
bool supports_topdir(const fs::path& probe) {
    fs::create_directories(probe);
    int fd = ::open(probe.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int flags = 0;
    bool kept = false;
    if (fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags |= FS_TOPDIR_FL;
        kept = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    if (fd >= 0) ::close(fd);
    return kept && (folder_flags(probe) & FS_TOPDIR_FL) != 0;
}

}  // namespace

TEST_CASE("store root spreads its subfolders", "[store]") {
    std::random_device device;
    const auto base = fs::temp_directory_path() / ("imgbus-placement-" + std::to_string(device()));
    const auto probe = base / "probe";
    const auto root = base / "store";
    if (!supports_topdir(probe)) {
        WARN("the filesystem of " << base
                                  << " has no folder placement attribute; nothing to check");
        fs::remove_all(base);
        return;
    }
    imgbus::store::FilesystemStoreOptions options;
    options.fsync = false;
    {
        auto store = imgbus::store::open_filesystem_store(root, options);
        CHECK(store->ensure_bucket("images").ok());
    }
    CHECK((folder_flags(root) & FS_TOPDIR_FL) != 0);
    CHECK(fs::is_directory(root / ".tmp"));
    CHECK(fs::is_empty(root / ".tmp"));
    fs::remove_all(base);
}
