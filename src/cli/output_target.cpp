// SPDX-License-Identifier: MIT
#include "output_target.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace imgbus::cli {
namespace {

constexpr int max_links = 40;

Error target_error(int code, const std::filesystem::path& path) {
    return {std::error_code(code, std::generic_category()),
            path.string() + ": cannot write the output file: " +
                std::generic_category().message(code) + "; name a file, not a folder"};
}

// True for a link in a /proc folder, also when reached through a folder link such as /dev/fd.
bool in_proc(const std::filesystem::path& link) {
    std::error_code ignored;
    const auto folder = std::filesystem::absolute(link, ignored).parent_path();
    const auto real = std::filesystem::canonical(folder, ignored).string();
    return real == "/proc" || real.starts_with("/proc/");
}

std::filesystem::path link_target(const std::filesystem::path& link) {
    std::vector<char> buffer(4096);
    const ssize_t length = ::readlink(link.c_str(), buffer.data(), buffer.size());
    if (length <= 0 || static_cast<std::size_t>(length) >= buffer.size()) {
        return {};
    }
    std::filesystem::path target(std::string(buffer.data(), static_cast<std::size_t>(length)));
    return target.is_absolute() ? target : link.parent_path() / target;
}

}  // namespace

Result<OutputTarget> resolve_output_target(const std::filesystem::path& path) {
    std::filesystem::path current = path;
    for (int hop = 0; hop <= max_links; ++hop) {
        struct stat info {};
        if (::lstat(current.c_str(), &info) != 0) {
            // A missing target is created. Any other lstat error comes back from the create.
            return OutputTarget{false, current};
        }
        if (S_ISLNK(info.st_mode)) {
            const auto next = link_target(current);
            if (in_proc(current) || next.empty()) {
                return OutputTarget{true, path};
            }
            current = next;
            continue;
        }
        if (S_ISDIR(info.st_mode)) {
            return target_error(EISDIR, path);
        }
        if (S_ISREG(info.st_mode)) {
            return OutputTarget{false, current};
        }
        return OutputTarget{true, path};
    }
    return OutputTarget{true, path};  // so open(2) reports the loop as ELOOP
}

}  // namespace imgbus::cli
