// SPDX-License-Identifier: MIT
// The RGB row of the grayscale kernel in AVX2 intrinsics. GCC's own vectorisation of the scalar
// loop (grayscale.cpp) spends most of its time taking the stride-3 RGB bytes apart. Here three
// byte shuffles per channel do it, and the row ran about 15 % faster on an AVX-512 machine
// (docs/imaging.md). The arithmetic is the same 8.8 fixed point, so the bytes match.
#include "grayscale_row.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstddef>

namespace imgbus::imaging::detail {
namespace {

#define IMGBUS_AVX2 __attribute__((target("avx2")))

// Shuffle masks that gather one channel of 16 RGB pixels, held in three 16-byte loads, into 16
// bytes: mask k takes the channel's bytes from load k and leaves zeros (index -1) elsewhere.
struct ChannelMasks {
    __m128i from_first;
    __m128i from_second;
    __m128i from_third;
};

IMGBUS_AVX2 ChannelMasks channel_masks(int channel) {
    alignas(16) std::int8_t masks[3][16];
    for (int pixel = 0; pixel < 16; ++pixel) {
        const int source = 3 * pixel + channel;  // byte offset in the 48 loaded bytes
        for (int load = 0; load < 3; ++load) {
            const bool here = source / 16 == load;
            masks[load][pixel] = static_cast<std::int8_t>(here ? source % 16 : -1);
        }
    }
    return {_mm_load_si128(reinterpret_cast<const __m128i*>(masks[0])),
            _mm_load_si128(reinterpret_cast<const __m128i*>(masks[1])),
            _mm_load_si128(reinterpret_cast<const __m128i*>(masks[2]))};
}

struct LaneMasks {
    __m256i first;
    __m256i second;
    __m256i third;
};

// The same masks in both 128-bit lanes: each lane holds its own 16 pixels.
IMGBUS_AVX2 LaneMasks lane_masks(int channel) {
    const ChannelMasks masks = channel_masks(channel);
    return {_mm256_broadcastsi128_si256(masks.from_first),
            _mm256_broadcastsi128_si256(masks.from_second),
            _mm256_broadcastsi128_si256(masks.from_third)};
}

IMGBUS_AVX2 __m256i gather(const LaneMasks& masks, __m256i a, __m256i b, __m256i c) {
    return _mm256_or_si256(
        _mm256_or_si256(_mm256_shuffle_epi8(a, masks.first), _mm256_shuffle_epi8(b, masks.second)),
        _mm256_shuffle_epi8(c, masks.third));
}

// (77 R + 150 G + 29 B + 128) >> 8 on 16-bit lanes; the sum fits in 16 bits unsigned.
IMGBUS_AVX2 __m256i weigh(__m256i r, __m256i g, __m256i b) {
    const __m256i red = _mm256_mullo_epi16(r, _mm256_set1_epi16(77));
    const __m256i green = _mm256_mullo_epi16(g, _mm256_set1_epi16(150));
    const __m256i blue = _mm256_mullo_epi16(b, _mm256_set1_epi16(29));
    const __m256i sum = _mm256_add_epi16(_mm256_add_epi16(red, green),
                                         _mm256_add_epi16(blue, _mm256_set1_epi16(128)));
    return _mm256_srli_epi16(sum, 8);
}

IMGBUS_AVX2 __m256i load_pair(const std::uint8_t* low, const std::uint8_t* high) {
    return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(high),
                               reinterpret_cast<const __m128i*>(low));
}

}  // namespace

IMGBUS_AVX2 int gray_row_rgb_avx2(const std::uint8_t* in, std::uint8_t* out, int width) noexcept {
    const LaneMasks red = lane_masks(0);
    const LaneMasks green = lane_masks(1);
    const LaneMasks blue = lane_masks(2);
    const __m256i zero = _mm256_setzero_si256();
    int x = 0;
    for (; x + 32 <= width; x += 32) {
        // The low lanes hold pixels x..x+15, the high lanes x+16..x+31.
        const std::uint8_t* p = in + 3 * static_cast<std::ptrdiff_t>(x);
        const __m256i a = load_pair(p, p + 48);
        const __m256i b = load_pair(p + 16, p + 64);
        const __m256i c = load_pair(p + 32, p + 80);
        const __m256i r = gather(red, a, b, c);
        const __m256i g = gather(green, a, b, c);
        const __m256i bl = gather(blue, a, b, c);
        const __m256i low = weigh(_mm256_unpacklo_epi8(r, zero), _mm256_unpacklo_epi8(g, zero),
                                  _mm256_unpacklo_epi8(bl, zero));
        const __m256i high = weigh(_mm256_unpackhi_epi8(r, zero), _mm256_unpackhi_epi8(g, zero),
                                   _mm256_unpackhi_epi8(bl, zero));
        // packus works per lane, so each lane's 16 results stay in order.
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + x), _mm256_packus_epi16(low, high));
    }
    return x;
}

}  // namespace imgbus::imaging::detail

#endif  // __x86_64__
