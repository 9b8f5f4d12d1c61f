// SPDX-License-Identifier: MIT
// libFuzzer entry point over the multipart/form-data parser. The first byte picks how many of
// the following bytes form the Content-Type boundary, and the rest is the body.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::size_t boundary_length = std::min<std::size_t>(input[0] % 80, input.size() - 1);
    auto boundary_text = input.substr(1, boundary_length);
    auto body = input.substr(1 + boundary_length);

    auto boundary = imgbus::http::multipart_boundary("multipart/form-data; boundary=" +
                                                     std::string(boundary_text));
    (void)imgbus::http::parse_structured_header(body.substr(0, 256));
    if (!boundary) return 0;

    imgbus::http::MultipartLimits limits;
    limits.max_parts = 16;
    limits.max_header_bytes = 512;
    auto parts = imgbus::http::parse_multipart(body, *boundary, limits);
    if (!parts) return 0;
    if (parts->empty() || parts->size() > limits.max_parts) std::abort();
    for (const auto& part : *parts) {
        // Each part body must be a view inside the input.
        if (part.body.data() < body.data() ||
            part.body.data() + part.body.size() > body.data() + body.size()) {
            std::abort();
        }
        if (part.name.empty()) std::abort();
    }
    return 0;
}
