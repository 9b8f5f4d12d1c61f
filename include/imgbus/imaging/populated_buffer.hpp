// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>

namespace imgbus::imaging {

// A writable block from an anonymous mapping that the kernel fills with zeroed pages inside the
// mmap call (MAP_POPULATE). Memory from malloc or new instead takes one page fault on the first
// touch of each 4 KiB page, and each fault costs microseconds. So a buffer of more than a few
// pages that is written in full soon after allocation is cheaper this way.
class PopulatedBuffer {
  public:
    PopulatedBuffer() = default;
    // Maps `size` bytes, or nothing for a size of 0. Throws std::bad_alloc when mmap fails.
    explicit PopulatedBuffer(std::size_t size);
    PopulatedBuffer(PopulatedBuffer&& other) noexcept;
    PopulatedBuffer& operator=(PopulatedBuffer&& other) noexcept;
    PopulatedBuffer(const PopulatedBuffer&) = delete;
    PopulatedBuffer& operator=(const PopulatedBuffer&) = delete;
    ~PopulatedBuffer();

    std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }

  private:
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace imgbus::imaging
