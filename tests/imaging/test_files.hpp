// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
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

    const std::filesystem::path& path() const { return path_; }
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

inline std::vector<std::uint8_t> inserted(std::vector<std::uint8_t> jpeg, std::size_t at,
                                          const std::vector<std::uint8_t>& extra) {
    jpeg.insert(jpeg.begin() + static_cast<std::ptrdiff_t>(at), extra.begin(), extra.end());
    return jpeg;
}

// An APP1 segment holding a TIFF header and one IFD with only the Orientation tag.
inline std::vector<std::uint8_t> exif_segment(int orientation, bool big_endian) {
    auto u16 = [&](int v) {
        return big_endian ? std::vector<std::uint8_t>{std::uint8_t(v >> 8), std::uint8_t(v)}
                          : std::vector<std::uint8_t>{std::uint8_t(v), std::uint8_t(v >> 8)};
    };
    auto u32 = [&](int v) {
        std::vector<std::uint8_t> low = u16(v & 0xFFFF), high = u16(v >> 16);
        if (big_endian) std::swap(low, high);
        low.insert(low.end(), high.begin(), high.end());
        return low;
    };
    std::vector<std::uint8_t> tiff =
        big_endian ? std::vector<std::uint8_t>{'M', 'M'} : std::vector<std::uint8_t>{'I', 'I'};
    for (const auto& part :
         {u16(42), u32(8), u16(1), u16(0x0112), u16(3), u32(1), u16(orientation), u16(0), u32(0)}) {
        tiff.insert(tiff.end(), part.begin(), part.end());
    }
    std::vector<std::uint8_t> payload = {'E', 'x', 'i', 'f', 0, 0};
    payload.insert(payload.end(), tiff.begin(), tiff.end());
    const auto length = payload.size() + 2;
    std::vector<std::uint8_t> segment = {0xFF, 0xE1, std::uint8_t(length >> 8),
                                         std::uint8_t(length)};
    segment.insert(segment.end(), payload.begin(), payload.end());
    return segment;
}

}  // namespace imgbus::imaging::testing
