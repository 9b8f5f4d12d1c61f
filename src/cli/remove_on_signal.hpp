// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>

namespace imgbus::cli {

// Until forget_on_signal(), SIGINT, SIGTERM and SIGHUP first unlink PATH and then end the
// process with the signal's default action, so an interrupted `imgbus process` leaves no
// temporary file. One path at a time; the command line is single-threaded here.
void remove_on_signal(const std::filesystem::path& path);
void forget_on_signal();

}  // namespace imgbus::cli
