// SPDX-License-Identifier: MIT
#include "upload.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace imgbus::bench {
namespace {

std::string random_boundary() {
    std::random_device device;
    std::uniform_int_distribution<int> digit(0, 15);
    std::string boundary = "imgbus-load-";
    for (int i = 0; i < 24; ++i) {
        boundary.push_back("0123456789abcdef"[digit(device)]);
    }
    return boundary;
}

std::string_view image_media_type(std::string_view image) {
    if (image.starts_with("\x89PNG")) {
        return "image/png";
    }
    if (image.starts_with("\xff\xd8")) {
        return "image/jpeg";
    }
    return "application/octet-stream";
}

void add_field(std::string& body, const std::string& boundary, std::string_view name,
               std::string_view value) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"";
    body += name;
    body += "\"\r\n\r\n";
    body += value;
    body += "\r\n";
}

}  // namespace

Result<std::string> read_image_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return Error{std::error_code(errno, std::generic_category()),
                     "cannot open the image '" + path + "': " + std::strerror(errno) +
                         "; pass the path of a JPEG or PNG file"};
    }
    std::ostringstream bytes;
    bytes << file.rdbuf();
    std::string image = std::move(bytes).str();
    if (image.empty()) {
        return Error{std::make_error_code(std::errc::invalid_argument),
                     "the image '" + path + "' is empty; pass a JPEG or PNG file"};
    }
    return image;
}

UploadBody make_upload_body(std::string_view image, std::string_view filename,
                            const LoadOptions& options) {
    const std::string boundary = random_boundary();
    UploadBody upload;
    upload.content_type = "multipart/form-data; boundary=" + boundary;
    std::string& body = upload.bytes;
    body.reserve(image.size() + 1024);
    add_field(body, boundary, "op", options.op);
    add_field(body, boundary, "threads", std::to_string(options.threads));
    add_field(body, boundary, "passes", std::to_string(options.passes));
    add_field(body, boundary, "runs", "1");
    if (options.path != "auto") {
        add_field(body, boundary, "path", options.path);
    }
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"";
    for (char c : filename) {
        body.push_back(c == '"' || c == '\r' || c == '\n' ? '_' : c);
    }
    body += "\"\r\nContent-Type: ";
    body += image_media_type(image);
    body += "\r\n\r\n";
    body += image;
    body += "\r\n--" + boundary + "--\r\n";
    return upload;
}

}  // namespace imgbus::bench
