// SPDX-License-Identifier: MIT
// The EXIF Orientation tag of a JPEG's APP1 segment, read with libexif.
#include <libexif/exif-data.h>

#include <cstring>
#include <memory>

#include "codec_detail.hpp"

namespace imgbus::imaging::detail {
namespace {

struct ExifDataDeleter {
    void operator()(ExifData* data) const { exif_data_unref(data); }
};

}  // namespace

int exif_orientation(Bytes app1_payload) {
    if (app1_payload.size() < 6 || std::memcmp(app1_payload.data(), "Exif\0\0", 6) != 0) {
        return 1;
    }
    std::unique_ptr<ExifData, ExifDataDeleter> data(exif_data_new());
    if (!data) {
        return 1;
    }
    // Read the tags as stored; the default options would add and repair entries.
    exif_data_unset_option(data.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(data.get(), app1_payload.data(),
                        static_cast<unsigned int>(app1_payload.size()));
    ExifEntry* entry = exif_content_get_entry(data->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (entry == nullptr || entry->format != EXIF_FORMAT_SHORT || entry->components != 1 ||
        entry->data == nullptr || entry->size < 2) {
        return 1;
    }
    const int orientation = exif_get_short(entry->data, exif_data_get_byte_order(data.get()));
    return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

}  // namespace imgbus::imaging::detail
