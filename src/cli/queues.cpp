// SPDX-License-Identifier: MIT
// `imgbus queues status|monitor|purge`: queue depth, consumers and rates from a management API,
// imgbus's own or RabbitMQ's management plugin, which share paths and field names.
#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.hpp"
#include "console.hpp"
#include "logging.hpp"
#include "management_client.hpp"
#include "queue_table.hpp"

namespace imgbus::cli {
namespace {

struct QueuesCommand {
    ConnectionFlags connection;
    double interval_seconds = 2;
    double duration_seconds = 0;
    std::string queue;
    std::string vhost = "/";
    bool yes = false;
};

[[noreturn]] void fail(const std::string& message) {
    spdlog::error("{}", message);
    spdlog::shutdown();
    throw CLI::RuntimeError(1);
}

template <class T>
T checked(Result<T> result) {
    if (!result) fail(result.error().message);
    return std::move(*result);
}

ManagementClient connect(const QueuesCommand& command) {
    setup_logging("warn");
    return checked(ManagementClient::connect(command.connection));
}

Result<std::string> queue_table(const ManagementClient& client) {
    auto queues = client.get_json("/api/queues");
    if (!queues) return queues.error();
    return format_queue_table(parse_queue_rows(*queues));
}

void run_status(const QueuesCommand& command) {
    auto client = connect(command);
    std::cout << checked(queue_table(client)) << std::flush;
}

void run_monitor(const QueuesCommand& command) {
    auto client = connect(command);
    auto looped = refresh_loop(command.interval_seconds, command.duration_seconds,
                               [&client] { return queue_table(client); });
    if (!looped) fail(looped.error().message);
}

// The queues to purge with their ready counts: the one named, or every queue of the vhost.
std::vector<QueueRow> purge_targets(const ManagementClient& client, const QueuesCommand& command) {
    auto rows = parse_queue_rows(checked(client.get_json("/api/queues")));
    std::erase_if(rows, [&command](const QueueRow& row) {
        return row.vhost != command.vhost || (!command.queue.empty() && row.name != command.queue);
    });
    if (!command.queue.empty() && rows.empty()) {
        fail("queue '" + command.queue + "' does not exist in vhost '" + command.vhost + "' at " +
             client.url() + "; `imgbus queues status` lists the queues");
    }
    return rows;
}

// Purges one queue; false (after saying why) when the server refused.
bool purge_one(const ManagementClient& client, const QueueRow& row) {
    auto path = "/api/queues/" + encode_path_segment(row.vhost) + "/" +
                encode_path_segment(row.name) + "/contents";
    auto answer = checked(client.request("DELETE", path));
    if (answer.status / 100 != 2) {
        std::cerr << "not purged: " << describe_failure(answer, "purging " + row.name, client.url())
                  << "\n";
        return false;
    }
    std::cout << "purged " << row.name << " (" << row.ready << " ready messages before)\n";
    return true;
}

void run_purge(const QueuesCommand& command) {
    auto client = connect(command);
    auto rows = purge_targets(client, command);
    if (rows.empty()) {
        std::cout << "no queues in vhost '" << command.vhost << "' at " << client.url() << "\n";
        return;
    }
    if (!command.yes) {
        std::uint64_t ready = 0;
        for (const auto& row : rows) ready += row.ready;
        auto what = command.queue.empty() ? "all " + std::to_string(rows.size()) + " queues"
                                          : "queue " + command.queue;
        auto agreed = checked(confirm("Purge " + what + " at " + client.url() + " (" +
                                      std::to_string(ready) + " ready messages)?"));
        if (!agreed) {
            std::cout << "nothing purged\n";
            return;
        }
    }
    bool all = true;
    for (const auto& row : rows) all = purge_one(client, row) && all;
    if (!all) throw CLI::RuntimeError(1);
}

void add_monitor_flags(CLI::App& command, QueuesCommand& options) {
    command.add_option("--interval", options.interval_seconds, "seconds between refreshes")
        ->check(CLI::Range(0.2, 3600.0))
        ->capture_default_str();
    command
        .add_option("--duration", options.duration_seconds,
                    "stop after this many seconds; 0 runs until Ctrl-C")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
}

}  // namespace

void register_queues(CLI::App& app) {
    auto options = std::make_shared<QueuesCommand>();
    auto* queues = app.add_subcommand(
        "queues", "Show, monitor or purge queues through a management API (imgbus or RabbitMQ)");
    queues->require_subcommand(1);

    auto* status = queues->add_subcommand(
        "status", "Print each queue's ready and unacked messages, consumers and rates");
    add_connection_flags(*status, options->connection);
    status->callback([options] { run_status(*options); });

    auto* monitor = queues->add_subcommand("monitor", "Refresh the queue table in place");
    add_connection_flags(*monitor, options->connection);
    add_monitor_flags(*monitor, *options);
    monitor->callback([options] { run_monitor(*options); });

    auto* purge = queues->add_subcommand(
        "purge", "Remove the ready messages of one queue, or of every queue, after a confirmation");
    add_connection_flags(*purge, options->connection);
    purge->add_option("QUEUE", options->queue, "queue to purge; without it, every queue");
    purge->add_option("--vhost", options->vhost, "virtual host of the queues")
        ->capture_default_str();
    purge->add_flag("--yes,-y", options->yes, "purge without asking");
    purge->callback([options] { run_purge(*options); });
}

}  // namespace imgbus::cli
