// SPDX-License-Identifier: MIT
#include <cstring>
#include <string>
#include <utility>

#include "codec_detail.hpp"

namespace imgbus::imaging::detail {
namespace {

constexpr std::uint8_t kSof0 = 0xC0;
constexpr std::uint8_t kDht = 0xC4;
constexpr std::uint8_t kJpg = 0xC8;
constexpr std::uint8_t kDac = 0xCC;
constexpr std::uint8_t kSoi = 0xD8;
constexpr std::uint8_t kEoi = 0xD9;
constexpr std::uint8_t kSos = 0xDA;
constexpr std::uint8_t kApp1 = 0xE1;
constexpr std::uint8_t kApp14 = 0xEE;

int read_u16(Bytes bytes, std::size_t at) { return (bytes[at] << 8) | bytes[at + 1]; }

// SOF0..SOF15 except DHT, JPG and DAC, which share the range.
bool is_sof(std::uint8_t marker) {
    return marker >= kSof0 && marker <= 0xCF && marker != kDht && marker != kJpg && marker != kDac;
}

// Markers without a length field: TEM and RST0..RST7.
bool is_standalone(std::uint8_t marker) {
    return marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7);
}

std::string hex_marker(std::uint8_t marker) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    return std::string("0xFF") + kDigits[marker >> 4] + kDigits[marker & 0xF];
}

Error ends_early(std::size_t offset) {
    return make_error(Errc::truncated, "JPEG ends at byte " + std::to_string(offset) +
                                           " inside its headers and has no scan data; the file "
                                           "is truncated, send the complete file");
}

// Reads a SOF segment (payload starts after the length field) into header->info.
Result<void> read_sof(std::uint8_t marker, Bytes segment, const DecodeLimits& limits,
                      JpegHeader* header) {
    if (segment.size() < 6) {
        return make_error(Errc::corrupt, "JPEG frame header (SOF) is " +
                                             std::to_string(segment.size()) +
                                             " bytes, too short to hold the image size");
    }
    const int precision = segment[0];
    header->info.height = read_u16(segment, 1);
    header->info.width = read_u16(segment, 3);
    header->components = segment[5];
    header->info.progressive = (marker & 0x3) == 0x2;

    if (auto size_ok = check_dimensions(header->info, limits); !size_ok) {
        return size_ok.error();
    }
    if ((marker & 0x3) == 0x3) {
        return make_error(Errc::unsupported, "lossless JPEG (SOF marker " + hex_marker(marker) +
                                                 ") is not supported; convert it to baseline JPEG "
                                                 "or PNG");
    }
    if (precision != 8) {
        return make_error(Errc::unsupported, std::to_string(precision) +
                                                 "-bit JPEG is not supported; only 8-bit samples "
                                                 "can be decoded");
    }
    if (header->components != 1 && header->components != 3 && header->components != 4) {
        return make_error(Errc::unsupported, "JPEG with " + std::to_string(header->components) +
                                                 " colour components is not supported; expected "
                                                 "1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCCK)");
    }
    header->info.channels = header->components == 1 ? 1 : 3;
    return {};
}

bool is_adobe_segment(Bytes segment) {
    return segment.size() >= 12 && std::memcmp(segment.data(), "Adobe", 5) == 0;
}

// Keeps the frame's size and reports the size after the EXIF orientation, which decode applies.
JpegHeader upright(JpegHeader header) {
    header.stored_width = header.info.width;
    header.stored_height = header.info.height;
    if (header.info.orientation >= 5) {
        std::swap(header.info.width, header.info.height);
    }
    return header;
}

}  // namespace

Result<JpegHeader> read_jpeg_header(Bytes bytes, const DecodeLimits& limits) {
    JpegHeader header;
    header.info.format = Format::jpeg;
    bool have_frame = false;
    std::size_t pos = 2;  // after SOI

    while (true) {
        // A marker is 0xFF, any number of 0xFF fill bytes, then the marker code. Junk bytes
        // between segments are skipped, as libjpeg does (it warns "extraneous bytes").
        while (pos < bytes.size() && bytes[pos] != 0xFF) {
            ++pos;
        }
        if (pos >= bytes.size()) {
            return ends_early(bytes.size());
        }
        while (pos < bytes.size() && bytes[pos] == 0xFF) {
            ++pos;
        }
        if (pos >= bytes.size()) {
            return ends_early(bytes.size());
        }
        const std::uint8_t marker = bytes[pos++];

        if (is_standalone(marker)) {
            continue;
        }
        if (marker == kSoi || marker == kEoi || marker == 0x00) {
            return make_error(Errc::corrupt, "JPEG has marker " + hex_marker(marker) +
                                                 " at offset " + std::to_string(pos - 2) +
                                                 " before any scan data");
        }
        if (bytes.size() - pos < 2) {
            return ends_early(bytes.size());
        }
        const int length = read_u16(bytes, pos);
        if (length < 2) {
            return make_error(Errc::corrupt, "JPEG segment " + hex_marker(marker) +
                                                 " declares length " + std::to_string(length) +
                                                 ", shorter than its own length field");
        }
        if (bytes.size() - pos < static_cast<std::size_t>(length)) {
            return ends_early(bytes.size());
        }
        const Bytes segment = bytes.subspan(pos + 2, length - 2);
        pos += length;

        if (is_sof(marker)) {
            if (have_frame) {
                return make_error(Errc::corrupt, "JPEG has a second frame header (SOF) at offset " +
                                                     std::to_string(pos - length - 2));
            }
            if (auto read = read_sof(marker, segment, limits, &header); !read) {
                return read.error();
            }
            have_frame = true;
        } else if (marker == kApp1 && header.info.orientation == 1) {
            header.info.orientation = exif_orientation(segment);
        } else if (marker == kApp14 && is_adobe_segment(segment)) {
            header.adobe_marker = true;
        } else if (marker == kSos) {
            if (!have_frame) {
                return make_error(Errc::corrupt,
                                  "JPEG scan (SOS) starts before any frame header (SOF)");
            }
            if (pos >= bytes.size()) {
                return make_error(Errc::truncated,
                                  "JPEG has headers but no scan data after its SOS segment; the "
                                  "file is truncated, send the complete file");
            }
            return upright(header);
        }
    }
}

}  // namespace imgbus::imaging::detail
