// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

namespace imgbus::imaging::detail {

// The scalar RGB row, which GCC vectorises; cloned for AVX2, SSSE3 and the x86-64 baseline.
void gray_row_rgb_vectorised(const std::uint8_t* __restrict in, std::uint8_t* __restrict out,
                             int width) noexcept;

// Converts the leading pixels of an RGB row in blocks of 32 with AVX2 and returns how many it
// did (a multiple of 32); the caller does the rest. Call only where the CPU has AVX2.
int gray_row_rgb_avx2(const std::uint8_t* in, std::uint8_t* out, int width) noexcept;

}  // namespace imgbus::imaging::detail
