// SPDX-License-Identifier: MIT
#include "imgbus/imaging/populated_buffer.hpp"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace imgbus::imaging {

PopulatedBuffer::PopulatedBuffer(std::size_t size) {
    if (size == 0) {
        return;
    }
    void* mapping = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mapping == MAP_FAILED) {
        throw std::bad_alloc();
    }
    data_ = static_cast<std::uint8_t*>(mapping);
    size_ = size;
}

PopulatedBuffer::PopulatedBuffer(PopulatedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PopulatedBuffer& PopulatedBuffer::operator=(PopulatedBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
}

PopulatedBuffer::~PopulatedBuffer() {
    if (data_ != nullptr) {
        ::munmap(data_, size_);
    }
}

}  // namespace imgbus::imaging
