// SPDX-License-Identifier: MIT
#include "imgbus/imaging/byte_sink.hpp"

namespace imgbus::imaging {

Result<void> VectorSink::write(std::span<const std::uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return {};
}

}  // namespace imgbus::imaging
