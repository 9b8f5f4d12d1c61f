// SPDX-License-Identifier: MIT
#include <CLI/CLI.hpp>

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

    CLI11_PARSE(app, argc, argv);
    return 0;
}
