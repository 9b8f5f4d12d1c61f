// SPDX-License-Identifier: MIT
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "imgbus/imaging/error.hpp"
#include "imgbus/imaging/operation.hpp"

// Helpers shared by the OpenMP kernels of the built-in operations.
namespace imgbus::imaging::detail {

// Channels that carry colour: all but a trailing alpha channel.
inline int color_channels(const Image& image) {
    return image.has_alpha() ? image.channels - 1 : image.channels;
}

inline std::uint8_t clamp_byte(float value) {
    return static_cast<std::uint8_t>(std::clamp(value + 0.5f, 0.0f, 255.0f));
}

// Calls row(y, thread) for every y in [0, rows), `passes` times, on up to `threads` OpenMP
// threads. The static schedule hands each thread one block of whole rows; every row is computed
// the same way whichever thread takes it, so any thread count gives the same bytes. `row` must
// be noexcept and must write only its own output row, so no exception can leave the region.
template <class RowFunction>
void parallel_rows(int rows, int threads, int passes, const RowFunction& row) {
#pragma omp parallel num_threads(std::max(threads, 1)) default(none) shared(rows, passes, row)
    for (int pass = 0; pass < passes; ++pass) {
#pragma omp for schedule(static)
        for (int y = 0; y < rows; ++y) {
            row(y, omp_get_thread_num());
        }
    }
}

// The largest thread index parallel_rows can pass, plus one: the size of per-thread scratch.
inline int scratch_slots(int threads) { return std::max(threads, 1); }

inline Error invalid(std::string message) {
    return make_error(Errc::invalid_argument, std::move(message));
}

}  // namespace imgbus::imaging::detail
