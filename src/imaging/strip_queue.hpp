// SPDX-License-Identifier: MIT
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "imgbus/imaging/populated_buffer.hpp"

namespace imgbus::imaging::detail {

// A band of consecutive image rows on its way from the decoder to the encoder.
struct Strip {
    std::uint8_t* pixels = nullptr;  // in the queue's block
    int rows = 0;
};

// A fixed set of strip buffers passed between one producer and one consumer. The producer takes
// an empty strip, fills it and sends it; the consumer receives it, uses it and gives it back.
// Memory stays at the strips allocated up front, in one populated block, so that the decoder's
// first pass over them takes no page faults. Either side may cancel, which wakes the other.
class StripQueue {
  public:
    StripQueue(int strips, std::size_t strip_bytes)
        : block_(static_cast<std::size_t>(strips) * strip_bytes),
          strips_(static_cast<std::size_t>(strips)) {
        for (std::size_t i = 0; i < strips_.size(); ++i) {
            strips_[i].pixels = block_.data() + i * strip_bytes;
            empty_.push_back(&strips_[i]);
        }
    }

    // An empty strip, or nullptr once cancelled.
    Strip* take_empty() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return cancelled_ || !empty_.empty(); });
        return pop(empty_);
    }

    void send(Strip* strip) { push(full_, strip); }

    // The next filled strip in order, or nullptr when the producer has finished and every strip
    // was received, or when cancelled.
    Strip* receive() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return cancelled_ || finished_ || !full_.empty(); });
        return pop(full_);
    }

    void give_back(Strip* strip) { push(empty_, strip); }

    // The producer sent its last strip.
    void finish() {
        std::lock_guard lock(mutex_);
        finished_ = true;
        changed_.notify_all();
    }

    void cancel() {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
        changed_.notify_all();
    }

    bool cancelled() {
        std::lock_guard lock(mutex_);
        return cancelled_;
    }

  private:
    Strip* pop(std::deque<Strip*>& from) {
        if (cancelled_ || from.empty()) {
            return nullptr;
        }
        Strip* strip = from.front();
        from.pop_front();
        return strip;
    }

    void push(std::deque<Strip*>& to, Strip* strip) {
        std::lock_guard lock(mutex_);
        to.push_back(strip);
        changed_.notify_all();
    }

    PopulatedBuffer block_;
    std::vector<Strip> strips_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Strip*> empty_;
    std::deque<Strip*> full_;
    bool finished_ = false;
    bool cancelled_ = false;
};

}  // namespace imgbus::imaging::detail
