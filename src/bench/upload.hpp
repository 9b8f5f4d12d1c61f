// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "imgbus/bench/load.hpp"
#include "imgbus/result.hpp"

namespace imgbus::bench {

// A multipart/form-data upload built once and sent by every request of a run.
struct UploadBody {
    std::string content_type;  // multipart/form-data; boundary=...
    std::string bytes;
};

// Reads the whole image into memory; fails with the path and the reason.
Result<std::string> read_image_file(const std::string& path);

// The form a browser would send: the image in a part named "image" plus the op, threads,
// passes and runs fields.
UploadBody make_upload_body(std::string_view image, std::string_view filename,
                            const LoadOptions& options);

}  // namespace imgbus::bench
