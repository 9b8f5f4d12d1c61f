// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "imgbus/result.hpp"

namespace imgbus::store {

// Deferred ETags. A put with PutOptions::defer_etag writes a placeholder in place of the MD5: 32
// letters from 'g' to 'v', unique to that put. The MD5 later replaces it in place, with the same
// length, so a header read while that write is under way still contains one of those letters.

// Returns true for a placeholder, whole or partly overwritten: any letter from 'g' to 'v'.
bool is_pending_etag(std::string_view etag);

// Returns the placeholder for the put numbered `counter` in the store with this 16-digit hex
// `prefix`.
std::string pending_etag(std::string_view prefix, std::uint64_t counter);

// Computes the lowercase hex MD5 of `size` bytes at `offset` of the open file. Fails with
// io_error as soon as `cancel` (when given) becomes true.
Result<std::string> md5_of_file_range(int fd, std::uint64_t offset, std::uint64_t size,
                                      const std::filesystem::path& path,
                                      const std::atomic<bool>* cancel = nullptr);

// Writes `md5` over the placeholder `pending` in the file at `path`, if it is still the inode that
// `read_fd` has open. The write is not synced, so a crash may leave the placeholder for later.
Result<void> replace_pending_etag(const std::filesystem::path& path, int read_fd,
                                  const std::string& pending, const std::string& md5);

// A thread that computes deferred ETags once puts have paused for kQuiet, so that reads seldom
// have to. Hashing during a burst, even at SCHED_IDLE, cost 7 % of the jobs per second on the
// 2-core machine of docs/benchmarks.md. At SCHED_IDLE the thread may wait long for a CPU, so it
// takes no lock that a put or a read needs. Its queue is a lock-free list, and the fill function
// only reads and writes the object's file.
class EtagBackfill {
  public:
    // A function that computes the ETag of one object. `stopping` turns true when the store closes.
    using Fill = std::function<void(const std::string& bucket, const std::string& key,
                                    const std::atomic<bool>& stopping)>;

    explicit EtagBackfill(Fill fill) : fill_(std::move(fill)) {}
    ~EtagBackfill() { stop(); }
    EtagBackfill(const EtagBackfill&) = delete;
    EtagBackfill& operator=(const EtagBackfill&) = delete;

    // Queues an object and starts the thread on first use. Past kMaxQueued objects it drops the
    // request, and the ETag is computed when the object is read.
    void push(std::string bucket, std::string key);
    void stop();

    static constexpr std::size_t kMaxQueued = 65'536;
    static constexpr std::chrono::milliseconds kQuiet{250};

  private:
    struct Node {
        std::string bucket;
        std::string key;
        Node* next = nullptr;
    };

    void run();
    // Sleeps until no object was pushed for kQuiet, or the store closes.
    void wait_for_quiet();
    // Takes every queued object, oldest first.
    Node* take_all();
    static void free_list(Node* node);

    Fill fill_;
    std::atomic<Node*> head_{nullptr};
    std::atomic<std::size_t> queued_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint32_t> signal_{0};  // bumped by every push and by stop()
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> last_push_ns_{0};  // steady_clock time of the latest push
    std::once_flag started_;
    std::thread thread_;
};

}  // namespace imgbus::store
