// SPDX-License-Identifier: MIT
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <exception>

#include "commands.hpp"

namespace {

struct Subcommand {
    const char* name;
    void (*register_subcommand)(CLI::App&);
};

constexpr Subcommand kSubcommands[] = {
    {"serve", imgbus::cli::register_serve},   {"process", imgbus::cli::register_process},
    {"load", imgbus::cli::register_load},     {"bench", imgbus::cli::register_bench},
    {"queues", imgbus::cli::register_queues}, {"admin", imgbus::cli::register_admin},
    {"worker", imgbus::cli::register_worker},
};

// Adds only the subcommand named by the first argument, because building the options of all of
// them took about a third of the instructions of `imgbus --version`. Any other first argument
// (--help, --version, a misspelt name) gets every subcommand, so that help and errors list them.
void register_subcommands(CLI::App& app, int argc, char** argv) {
    for (const auto& subcommand : kSubcommands) {
        if (argc > 1 && std::strcmp(argv[1], subcommand.name) == 0) {
            subcommand.register_subcommand(app);
            return;
        }
    }
    for (const auto& subcommand : kSubcommands) {
        subcommand.register_subcommand(app);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "imgbus: event-driven image processing (queue, object store, OpenMP workers) "
        "in one binary"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "imgbus 0.1.0");
    register_subcommands(app, argc, argv);

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
