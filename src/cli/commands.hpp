// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>

namespace imgbus::cli {

// Each register_* adds one subcommand to the app. The subcommand's callback runs it and throws
// CLI::RuntimeError with the exit code on failure, after printing what to do.
void register_serve(CLI::App& app);
void register_process(CLI::App& app);
void register_load(CLI::App& app);
void register_bench(CLI::App& app);
void register_queues(CLI::App& app);
void register_admin(CLI::App& app);
void register_worker(CLI::App& app);

}  // namespace imgbus::cli
