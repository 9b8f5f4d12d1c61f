// SPDX-License-Identifier: MIT
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{
        "imgbus: event-driven image processing (queue, object store, OpenMP workers) "
        "in one binary"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "imgbus 0.1.0");

    imgbus::cli::register_serve(app);
    imgbus::cli::register_process(app);
    imgbus::cli::register_load(app);
    imgbus::cli::register_bench(app);
    imgbus::cli::register_queues(app);
    imgbus::cli::register_admin(app);
    imgbus::cli::register_worker(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    } catch (const std::exception& error) {
        // Reports a failure that no command turned into its own message, instead of aborting.
        // One example is libcrypto missing when the first digest is computed.
        spdlog::critical("{}", error.what());
        return 1;
    }
    return 0;
}
