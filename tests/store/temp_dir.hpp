// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace imgbus::store_test {

// A fresh folder under the system temporary folder, removed with everything in it at the end of
// the test.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "imgbus-store-test-") {
        std::random_device device;
        path_ = std::filesystem::temp_directory_path() /
                (prefix + std::to_string(device()) + std::to_string(device()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace imgbus::store_test
