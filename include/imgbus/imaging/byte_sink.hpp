// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::imaging {

// A destination for encoded bytes. An encoder calls write() in order, once each time its
// fixed-size output buffer fills and once more for the rest at the end.
class ByteSink {
  public:
    virtual ~ByteSink() = default;

    // Appends `bytes`. An error stops the encoder, which then fails with encode_failed and this
    // error's message.
    virtual Result<void> write(std::span<const std::uint8_t> bytes) = 0;
};

// Collects the bytes in memory.
class VectorSink final : public ByteSink {
  public:
    // Reserves `expected_bytes` up front, so that a good estimate saves the copies of a vector
    // that grows by doubling.
    explicit VectorSink(std::size_t expected_bytes = 0) { bytes_.reserve(expected_bytes); }

    Result<void> write(std::span<const std::uint8_t> bytes) override;

    // Moves the bytes written so far out of the sink.
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

  private:
    std::vector<std::uint8_t> bytes_;
};

}  // namespace imgbus::imaging
