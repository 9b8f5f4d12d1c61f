// SPDX-License-Identifier: MIT
// Terminal helpers of the operator commands: confirmation prompts, Ctrl-C and refresh loops.
#pragma once

#include <functional>
#include <string>

#include "imgbus/result.hpp"

namespace imgbus::cli {

// True when both standard input and output are terminals.
bool interactive_terminal();

// Asks a yes/no question on the terminal; only "y" or "yes" agree. Without a terminal on
// standard input it fails, telling the user to pass --yes.
Result<bool> confirm(const std::string& question);

// While alive, Ctrl-C (SIGINT) only sets a flag that interrupted() reads; the previous handler
// comes back on destruction.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    static bool interrupted();
};

// Calls draw() now and then every interval_seconds until Ctrl-C, until duration_seconds have
// passed (0: no limit), or until draw() fails. On a terminal each frame replaces the last.
Result<void> refresh_loop(double interval_seconds, double duration_seconds,
                          const std::function<Result<std::string>()>& draw);

}  // namespace imgbus::cli
