// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>

#include "imgbus/bench/load.hpp"

namespace imgbus::bench {

// Reports finished requests while a load runs: a bar redrawn in place on a terminal, or a plain
// line at every tenth of the run (every request for runs of 20 or fewer). Thread-safe.
class Progress {
  public:
    Progress(int total, ProgressMode mode, std::FILE* out = stderr);

    void record(const RequestResult& result);
    // Ends the bar's line; a no-op in the other modes.
    void finish();

  private:
    void draw_bar(double elapsed_seconds);
    void print_line(double elapsed_seconds);

    std::mutex mutex_;
    int total_;
    ProgressMode mode_;
    std::FILE* out_;
    int finished_ = 0;
    int succeeded_ = 0;
    int next_line_at_ = 1;
    std::chrono::steady_clock::time_point started_;
};

// The mode `automatic` stands for when writing to `out`.
ProgressMode resolve_progress_mode(ProgressMode mode, std::FILE* out);

}  // namespace imgbus::bench
