// SPDX-License-Identifier: MIT
// Helpers shared by the broker tests: a recording consumer, bounded waits and temporary
// journal directories.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "imgbus/broker/broker.hpp"

namespace imgbus::broker::test {

class Recorded {
  public:
    DeliveryHandler handler() {
        return [this](Delivery delivery) {
            std::lock_guard lock(mutex_);
            deliveries_.push_back(std::move(delivery));
        };
    }
    std::vector<Delivery> deliveries() {
        std::lock_guard lock(mutex_);
        return deliveries_;
    }
    std::vector<std::string> bodies() {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& d : deliveries_) out.push_back(d.message.body);
        return out;
    }
    std::size_t size() {
        std::lock_guard lock(mutex_);
        return deliveries_.size();
    }

  private:
    std::mutex mutex_;
    std::vector<Delivery> deliveries_;
};

inline Message body(const std::string& text, bool persistent = false) {
    Message message;
    message.body = text;
    message.message_id = text;
    message.persistent = persistent;
    return message;
}

// Polls `done` every millisecond for at most `limit` and returns its last result.
template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// A fresh directory under the system temp dir, removed with its contents at the end.
class TempDir {
  public:
    TempDir() {
        static int counter = 0;
        path_ =
            std::filesystem::temp_directory_path() /
            ("imgbus-broker-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline std::size_t ready(Broker& broker, const std::string& queue) {
    auto stats = broker.queue_stats(queue);
    return stats ? stats->messages_ready : 0;
}

}  // namespace imgbus::broker::test
