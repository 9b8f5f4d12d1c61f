// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string>

#include "imgbus/result.hpp"
#include "imgbus/s3/server.hpp"

namespace imgbus::cli {

struct ResolvedCredentials {
    s3::Credentials credentials;
    std::filesystem::path file;  // empty when the credentials came from flags or the environment
    bool generated = false;      // true when this start created the file
};

// Chooses the server's access key pair: both of `access_key` and `secret_key` when given (flags or
// IMGBUS_ACCESS_KEY/IMGBUS_SECRET_KEY), else <data_dir>/credentials.json, which is created with a
// random pair and mode 0600 on first start. Fails when only one of the two is given, or when the
// file is unreadable, malformed or readable by group or others.
Result<ResolvedCredentials> resolve_credentials(const std::string& access_key,
                                                const std::string& secret_key,
                                                const std::filesystem::path& data_dir);

// Reads a key pair file of the form above ({"access_key": ..., "secret_key": ...}, mode 0600),
// such as an imgbus serve's <data-dir>/credentials.json. Fails naming the file and the fix.
Result<s3::Credentials> read_credentials_file(const std::filesystem::path& path);

}  // namespace imgbus::cli
