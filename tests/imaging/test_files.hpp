// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "imgbus/imaging/image.hpp"

namespace imgbus::imaging::testing {

inline std::filesystem::path data_path(const std::string& name) {
    return std::filesystem::path(IMGBUS_TEST_DATA_DIR) / name;
}

inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw std::runtime_error("cannot open test file " + path.string());
    }
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

inline std::vector<std::uint8_t> read_data(const std::string& name) {
    return read_bytes(data_path(name));
}

// A temporary directory removed when the object goes out of scope.
class TempDir {
  public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "imgbus-imaging-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed for " + pattern);
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

// Runs ImageMagick's convert with the arguments; throws when it fails.
inline void run_convert(const std::string& arguments) {
    const std::string command = "convert " + arguments + " 2>&1";
    if (std::system(command.c_str()) != 0) {
        throw std::runtime_error("command failed: " + command);
    }
}

// A deterministic pattern with every channel varying, so that swapped channels show.
inline Image make_pattern(int width, int height, int channels, unsigned seed = 1) {
    Image image = make_image(width, height, channels);
    std::uint32_t state = seed * 2654435761u + 12345u;
    for (auto& byte : image.pixels) {
        state = state * 1664525u + 1013904223u;
        byte = static_cast<std::uint8_t>(state >> 24);
    }
    return image;
}

// A smooth image that JPEG compresses with small errors.
inline Image make_gradient(int width, int height, int channels) {
    Image image = make_image(width, height, channels);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            std::uint8_t* p = image.row(y) + static_cast<std::size_t>(x) * channels;
            for (int c = 0; c < channels; ++c) {
                const int x_weight = c + 1;
                const int y_weight = 4 - c;
                p[c] = static_cast<std::uint8_t>((x * x_weight + y * y_weight) * 255 /
                                                 (width * x_weight + height * y_weight));
            }
        }
    }
    return image;
}

inline int max_abs_difference(const Image& a, const Image& b) {
    int worst = 0;
    for (std::size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) {
        worst = std::max(worst, std::abs(int{a.pixels[i]} - int{b.pixels[i]}));
    }
    return worst;
}

}  // namespace imgbus::imaging::testing
