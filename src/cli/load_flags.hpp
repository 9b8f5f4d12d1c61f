// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>

#include "imgbus/bench/load.hpp"

namespace imgbus::cli {

// Adds the flags that `imgbus load` and `imgbus bench` share: IMAGE, --url, --concurrency,
// --delay, --timeout, --retries, --passes, --op, --debug and --no-events.
void add_shared_load_flags(CLI::App& command, bench::LoadOptions& options);

}  // namespace imgbus::cli
