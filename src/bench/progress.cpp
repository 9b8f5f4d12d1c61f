// SPDX-License-Identifier: MIT
#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <string>

namespace imgbus::bench {
namespace {

constexpr int kBarWidth = 30;

}  // namespace

ProgressMode resolve_progress_mode(ProgressMode mode, std::FILE* out) {
    if (mode != ProgressMode::automatic) {
        return mode;
    }
    return isatty(fileno(out)) ? ProgressMode::bar : ProgressMode::lines;
}

Progress::Progress(int total, ProgressMode mode, std::FILE* out)
    : total_(std::max(total, 1)),
      mode_(resolve_progress_mode(mode, out)),
      out_(out),
      started_(std::chrono::steady_clock::now()) {}

void Progress::record(const RequestResult& result) {
    std::lock_guard lock(mutex_);
    ++finished_;
    succeeded_ += result.ok ? 1 : 0;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
    if (mode_ == ProgressMode::bar) {
        draw_bar(elapsed.count());
    } else if (mode_ == ProgressMode::lines && finished_ >= next_line_at_) {
        print_line(elapsed.count());
        const int step = total_ <= 20 ? 1 : (total_ + 9) / 10;
        next_line_at_ = std::min(finished_ + step - finished_ % step, total_);
    }
}

void Progress::finish() {
    std::lock_guard lock(mutex_);
    if (mode_ == ProgressMode::bar) {
        std::fputc('\n', out_);
        std::fflush(out_);
    }
}

void Progress::draw_bar(double elapsed_seconds) {
    const int filled = finished_ * kBarWidth / total_;
    const std::string bar = std::string(filled, '#') + std::string(kBarWidth - filled, '.');
    std::fprintf(out_, "\r[%s] %d/%d  ok %d  failed %d  %.1f s ", bar.c_str(), finished_, total_,
                 succeeded_, finished_ - succeeded_, elapsed_seconds);
    std::fflush(out_);
}

void Progress::print_line(double elapsed_seconds) {
    std::fprintf(out_, "load: %d/%d finished (%d ok, %d failed) after %.1f s\n", finished_, total_,
                 succeeded_, finished_ - succeeded_, elapsed_seconds);
    std::fflush(out_);
}

}  // namespace imgbus::bench
