// SPDX-License-Identifier: MIT
// libFuzzer entry point for the image decoders: probe() then decode() with small limits, so that
// a mutated header cannot make the fuzzer spend its time on huge allocations.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "imgbus/imaging/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace imaging = imgbus::imaging;
    const std::span<const std::uint8_t> bytes(data, size);
    imaging::DecodeLimits limits;
    limits.max_pixels = 4'000'000;
    limits.max_dimension = 8192;

    auto info = imaging::probe(bytes, limits);
    auto image = imaging::decode(bytes, limits);
    if (!info.ok()) {
        // probe() reads only the header; decode() must reject whatever probe() rejects.
        if (image.ok()) {
            std::abort();
        }
        return 0;
    }
    if (image.ok() &&
        (image->width != info->width || image->height != info->height ||
         image->channels != info->channels || image->pixels.size() != image->byte_size())) {
        std::abort();
    }
    return 0;
}
