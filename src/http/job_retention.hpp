// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "job_tracker.hpp"

namespace imgbus::http {

// now - retention, or the earliest time point when that is before the clock's epoch, so that a
// long retention cannot wrap around to a cutoff in the future.
std::chrono::system_clock::time_point retention_cutoff(std::chrono::system_clock::time_point now,
                                                       std::chrono::seconds retention);

// Runs JobTracker::sweep_finished_before(retention_cutoff(now, retention)) every retention / 4 (1 s
// to 1 h) on a strand of its own and logs what it deleted. A retention of 0 keeps every job.
class RetentionSweeper : public std::enable_shared_from_this<RetentionSweeper> {
  public:
    RetentionSweeper(boost::asio::io_context& io, std::shared_ptr<JobTracker> tracker,
                     std::chrono::seconds retention);

    void start();
    void stop();

  private:
    void schedule();
    void sweep();

    std::shared_ptr<JobTracker> tracker_;
    const std::chrono::seconds retention_;
    const std::chrono::seconds interval_;
    boost::asio::steady_timer timer_;
    std::atomic<bool> stopped_{false};
};

}  // namespace imgbus::http
