// SPDX-License-Identifier: MIT
#include "credentials.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "imgbus/dynload/libcrypto.hpp"

namespace imgbus::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxFileBytes = 4096;

Error failure(std::string message) {
    return Error{std::make_error_code(std::errc::invalid_argument), std::move(message)};
}

// `length` characters drawn uniformly from `alphabet` (whose size divides 256, so no bias).
std::string random_text(std::size_t length, std::string_view alphabet) {
    std::string text;
    while (text.size() < length) {
        unsigned char byte = 0;
        if (dynload::libcrypto().RAND_bytes(&byte, 1) != 1) {
            throw std::runtime_error("the OpenSSL random generator failed");
        }
        text.push_back(alphabet[byte % alphabet.size()]);
    }
    return text;
}

Result<s3::Credentials> read_file(const fs::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        return failure(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return failure(
            fmt::format("{} is readable by other users; run chmod 600 {} and start "
                        "again",
                        path.string(), path.string()));
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(kMaxFileBytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("access_key") ||
        !json.contains("secret_key") || !json["access_key"].is_string() ||
        !json["secret_key"].is_string()) {
        return failure(
            fmt::format("{} is not a JSON object with string fields access_key and "
                        "secret_key; fix it or delete it to generate a new pair",
                        path.string()));
    }
    s3::Credentials credentials{json["access_key"], json["secret_key"]};
    if (credentials.access_key.empty() || credentials.secret_key.empty()) {
        return failure(fmt::format("{} has an empty access_key or secret_key", path.string()));
    }
    return credentials;
}

// Writes the file with O_EXCL and mode 0600, so an existing file is never replaced and no other
// user can read the secret at any moment.
Result<s3::Credentials> create_file(const fs::path& path) {
    s3::Credentials credentials{
        random_text(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        random_text(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")};
    const std::string text = nlohmann::json{{"access_key", credentials.access_key},
                                            {"secret_key", credentials.secret_key}}
                                 .dump(2) +
                             "\n";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return failure(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
    }
    const bool written =
        ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
        ::unlink(path.c_str());
        return failure(fmt::format("cannot write {}", path.string()));
    }
    return credentials;
}

}  // namespace

Result<s3::Credentials> read_credentials_file(const fs::path& path) { return read_file(path); }

Result<ResolvedCredentials> resolve_credentials(const std::string& access_key,
                                                const std::string& secret_key,
                                                const fs::path& data_dir) {
    if (!access_key.empty() && !secret_key.empty()) {
        return ResolvedCredentials{{access_key, secret_key}, {}, false};
    }
    if (!access_key.empty() || !secret_key.empty()) {
        return failure(
            "give both --access-key and --secret-key (or IMGBUS_ACCESS_KEY and "
            "IMGBUS_SECRET_KEY), or neither to use the generated pair in the data directory");
    }
    const fs::path path = data_dir / "credentials.json";
    std::error_code error;
    if (fs::exists(path, error)) {
        auto credentials = read_file(path);
        if (!credentials) return credentials.error();
        return ResolvedCredentials{*credentials, path, false};
    }
    auto credentials = create_file(path);
    if (!credentials) return credentials.error();
    return ResolvedCredentials{*credentials, path, true};
}

}  // namespace imgbus::cli
