// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
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
// length, so a header read while that write is under way still holds one of those letters.

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


// Writes `md5` over the placeholder `pending` in the header of the object file at `path`, if
// that file is still the inode that `read_fd` has open. The write is not synced: after a crash
// the placeholder may still be there, and the MD5 is computed again on the next read.
Result<void> replace_pending_etag(const std::filesystem::path& path, int read_fd,
                                  const std::string& pending, const std::string& md5);

// A thread at SCHED_IDLE priority that computes deferred ETags, so that reads seldom have to. A
// thread at that priority may wait long for a CPU, so it takes no lock that a put or a read needs:
// its fill function only reads and writes the object's file, and push() gives up instead of
// waiting when the thread holds the queue.
class EtagBackfill {
  public:
    // Computes the ETag of one object; `stopping` turns true when the store closes.
    using Fill = std::function<void(const std::string& bucket, const std::string& key,
                                    const std::atomic<bool>& stopping)>;

    explicit EtagBackfill(Fill fill) : fill_(std::move(fill)) {}
    ~EtagBackfill() { stop(); }
    EtagBackfill(const EtagBackfill&) = delete;
    EtagBackfill& operator=(const EtagBackfill&) = delete;

    // Queues an object; starts the thread on first use. Past kMaxQueued objects, or when the
    // queue is busy, it drops the request, and the ETag is computed when the object is read.
    void push(std::string bucket, std::string key);
    void stop();

    static constexpr std::size_t kMaxQueued = 65'536;

  private:
    void run();

    Fill fill_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::pair<std::string, std::string>> queue_;
    std::atomic<bool> stopping_{false};
    std::uint64_t dropped_ = 0;
    std::thread thread_;
};

}  // namespace imgbus::store
