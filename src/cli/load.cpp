// SPDX-License-Identifier: MIT
// `imgbus load IMAGE`: uploads the image --count times to a running server, follows every job to
// completion and prints the summary.
#include "imgbus/bench/load.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "load_flags.hpp"
#include "logging.hpp"

namespace imgbus::cli {
namespace {

struct LoadCommand {
    bench::LoadOptions options;
    std::string json_path;
};

const std::map<std::string, bench::ProgressMode> kProgressModes = {
    {"auto", bench::ProgressMode::automatic},
    {"bar", bench::ProgressMode::bar},
    {"lines", bench::ProgressMode::lines},
    {"none", bench::ProgressMode::none}};

[[noreturn]] void fail(const std::string& message) {
    spdlog::error("{}", message);
    spdlog::shutdown();
    throw CLI::RuntimeError(1);
}

void write_json(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        fail("cannot write --json " + path + ": " + std::strerror(errno) +
             "; choose a writable path");
    }
}

void run_load_command(const LoadCommand& command) {
    setup_logging(command.options.debug ? "debug" : "warn");
    auto report = bench::run_load(command.options);
    if (!report) {
        fail(report.error().message);
    }
    std::cout << bench::format_summary(report->summary) << std::flush;
    if (!command.json_path.empty()) {
        write_json(command.json_path, bench::report_json(*report));
    }
    if (report->summary.success_percent < command.options.min_success) {
        fail(
            fmt::format("success rate {:.1f}% is under --min-success {}%; see the failures above "
                        "(--debug shows each request)",
                        report->summary.success_percent, command.options.min_success));
    }
    spdlog::shutdown();
}

}  // namespace

void add_shared_load_flags(CLI::App& command, bench::LoadOptions& options) {
    command.add_option("IMAGE", options.image_path, "JPEG or PNG file to upload")
        ->required()
        ->check(CLI::ExistingFile);
    command.add_option("--url", options.url, "base URL of the imgbus server")
        ->envname("IMGBUS_URL")
        ->capture_default_str();
    command.add_option("--concurrency", options.concurrency, "requests in flight at once")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    command
        .add_option("--delay", options.delay_seconds,
                    "seconds between the starts of two requests, to spare the server")
        ->check(CLI::Range(0.0, 60.0))
        ->capture_default_str();
    command
        .add_option("--timeout", options.timeout_seconds,
                    "seconds one request may take, from upload to the job's end, retries included")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    command
        .add_option("--retries", options.retries,
                    "further attempts of an upload answered 429/502/503/504 or not answered, with "
                    "exponential back-off that honours Retry-After")
        ->check(CLI::Range(0, 20))
        ->capture_default_str();
    command.add_option("--passes", options.passes, "kernel passes of each job")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    command.add_option("--op", options.op, "operation of each job")->capture_default_str();
    command
        .add_option("--path", options.path,
                    "processing path each job allows: auto (streaming where possible), stream, "
                    "or whole-image (the OpenMP kernel that --threads scales)")
        ->check(CLI::IsMember({"auto", "stream", "whole-image"}))
        ->capture_default_str();
    command.add_flag("--debug", options.debug, "log each request's details to stderr");
    command.add_flag("!--no-events", options.use_events,
                     "poll GET /api/jobs/{id} instead of following /api/events");
}

void register_load(CLI::App& app) {
    auto command = std::make_shared<LoadCommand>();
    auto* load = app.add_subcommand(
        "load", "Send jobs to a running imgbus server and report latency and throughput");
    add_shared_load_flags(*load, command->options);
    load->add_option("--count", command->options.count, "requests to send")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    load->add_option("--threads", command->options.threads, "OpenMP threads of each job")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    load->add_option("--json", command->json_path, "write every request's result to this file");
    load->add_option("--min-success", command->options.min_success,
                     "exit with status 1 when the success rate, in percent, is below this")
        ->check(CLI::Range(0.0, 100.0))
        ->capture_default_str();
    load->add_option("--progress", command->options.progress,
                     "auto (a bar on a terminal, lines otherwise), bar, lines or none")
        ->transform(CLI::CheckedTransformer(kProgressModes, CLI::ignore_case));
    load->callback([command] { run_load_command(*command); });
}

}  // namespace imgbus::cli
