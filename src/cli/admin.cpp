// SPDX-License-Identifier: MIT
// `imgbus admin`: recovery of an imgbus server through its admin routes. Subcommands status,
// purge, restart-workers, restart and monitor; with none, on a terminal, a menu of the same.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "console.hpp"
#include "logging.hpp"
#include "management_client.hpp"
#include "queue_table.hpp"

namespace imgbus::cli {
namespace {

using Json = nlohmann::json;

struct AdminCommand {
    ConnectionFlags connection;
    std::string queue;  // purge; empty: the job queue
    bool yes = false;
    bool json = false;
    double interval_seconds = 2;
    double duration_seconds = 0;
    double wait_seconds = 600;  // restart and restart-workers
};

Error failure(std::string message) {
    return Error{std::make_error_code(std::errc::invalid_argument), std::move(message)};
}

[[noreturn]] void fail(const std::string& message) {
    spdlog::error("{}", message);
    spdlog::shutdown();
    throw CLI::RuntimeError(1);
}

std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / (1 << 20)); }
std::string gib(double bytes) { return fmt::format("{:.1f} GiB", bytes / (1 << 30)); }

std::string broker_line(const Json& broker) {
    std::string line = fmt::format(
        "  broker     {:<9}{} queues, {} of bodies held (limit {}), journal {}\n",
        broker.value("state", "?"), broker.value("queues", 0),
        mib(broker.value("message_bytes", 0.0)), mib(broker.value("memory_limit_bytes", 0.0)),
        mib(broker.value("journal_bytes", 0.0)));
    if (broker.contains("reason")) line += "             " + broker.value("reason", "") + "\n";
    if (!broker.contains("job_queue")) return line;
    const auto& jobs = broker["job_queue"];
    return line + fmt::format(
                      "  job queue  {}: {} ready of {} max, {} unacked, {} consumers, {} "
                      "publishes refused since start\n",
                      jobs.value("name", "?"), jobs.value("messages_ready", 0),
                      jobs.value("max_length", 0), jobs.value("messages_unacknowledged", 0),
                      jobs.value("consumers", 0), jobs.value("rejected_publish", 0));
}

std::string disk_line(const Json& disk) {
    if (!disk.contains("capacity_bytes")) {
        return fmt::format("  disk       {:<9}{}\n", disk.value("state", "?"),
                           disk.value("reason", ""));
    }
    return fmt::format("  disk       {:<9}{} available of {} ({:.0f}% used) in {}\n",
                       disk.value("state", "?"), gib(disk.value("available_bytes", 0.0)),
                       gib(disk.value("capacity_bytes", 0.0)), disk.value("used_percent", 0.0),
                       disk.value("path", ""));
}

std::string listeners_line(const Json& listeners) {
    std::string line = "  listeners";
    if (listeners.empty()) return line + "  (not reported)\n";
    for (const auto& listener : listeners) {
        line += fmt::format("  {} {} ({} connections)", listener.value("name", "?"),
                            listener.value("url", "?"), listener.value("connections", 0));
    }
    return line + "\n";
}

// One line per AMQP connection, at most kShownConnections of them.
std::string connections_lines(const Json& connections) {
    constexpr std::size_t kShownConnections = 10;
    if (!connections.is_array() || connections.empty()) return "";
    std::string text = fmt::format("  amqp       {} connections\n", connections.size());
    for (std::size_t i = 0; i < connections.size() && i < kShownConnections; ++i) {
        const auto& c = connections[i];
        text += fmt::format("             {}  user {}, {} channels, {}{}\n", c.value("name", "?"),
                            c.value("user", "?"), c.value("channels", 0), c.value("state", "?"),
                            c.value("client", "").empty() ? "" : ", " + c.value("client", ""));
    }
    if (connections.size() > kShownConnections) {
        text += fmt::format("             ... and {} more; GET /api/connections lists them all\n",
                            connections.size() - kShownConnections);
    }
    return text;
}

std::string operation_line(const Json& operation) {
    if (operation.value("operation", "").empty()) return "";
    if (operation.value("running", false)) {
        return fmt::format("  operation  {} running since {}: {}\n",
                           operation.value("operation", ""), operation.value("started_at", ""),
                           operation.value("phase", ""));
    }
    return fmt::format("  operation  {} finished {}: {}\n", operation.value("operation", ""),
                       operation.value("finished_at", ""), operation.value("result", ""));
}

std::string intake_line(const Json& intake) {
    if (!intake.value("paused", false)) return "  intake     accepting uploads\n";
    return fmt::format("  intake     paused: uploads answer 503{}\n",
                       intake.value("amqp_publishes_held", false)
                           ? ", AMQP publishes to the job queue are held"
                           : "");
}

std::string format_status(const Json& status, const std::string& url) {
    const auto& workers = status["workers"];
    const auto& jobs = status["jobs"];
    std::string text = fmt::format("imgbus at {}: {}\n", url, status.value("status", "?"));
    text += broker_line(status["broker"]);
    text += fmt::format("  store      {:<9}bucket {}\n", status["store"].value("state", "?"),
                        status["store"].value("bucket", ""));
    text += fmt::format("  workers    {:<9}{} of {} running\n", workers.value("state", "?"),
                        workers.value("running", 0), workers.value("configured", 0));
    text += listeners_line(status["listeners"]);
    if (status.contains("connections")) text += connections_lines(status["connections"]);
    text += disk_line(status["disk"]);
    text += intake_line(status["intake"]);
    text += fmt::format("  jobs       {} queued, {} processing, {} done, {} failed\n",
                        jobs.value("queued", 0), jobs.value("processing", 0), jobs.value("done", 0),
                        jobs.value("failed", 0));
    return text + operation_line(status["operation"]);
}

Result<Json> fetch_status(const ManagementClient& client) {
    auto status = client.get_json("/api/admin/status");
    if (!status) return status.error();
    if (!status->is_object() || !status->contains("broker") || !status->contains("workers")) {
        return failure(client.url() +
                       "/api/admin/status is not imgbus's admin status; `imgbus "
                       "admin` needs an imgbus server (use `imgbus queues` for "
                       "RabbitMQ)");
    }
    return status;
}

Result<std::string> status_frame(const ManagementClient& client) {
    auto status = fetch_status(client);
    if (!status) return status.error();
    auto queues = client.get_json("/api/queues");
    if (!queues) return queues.error();
    return format_status(*status, client.url()) + "\n" +
           format_queue_table(parse_queue_rows(*queues));
}

Result<void> show_status(const ManagementClient& client, bool json) {
    auto status = fetch_status(client);
    if (!status) return status.error();
    std::cout << (json ? status->dump(2) + "\n" : format_status(*status, client.url()))
              << std::flush;
    return {};
}

Result<void> purge(const ManagementClient& client, const AdminCommand& command) {
    auto queue = command.queue.empty() ? std::string("the job queue") : command.queue;
    if (!command.yes) {
        auto agreed = confirm("Purge " + queue + " at " + client.url() +
                              "? Its queued jobs are recorded as failed, purged by an operator.");
        if (!agreed) return agreed.error();
        if (!*agreed) {
            std::cout << "nothing purged\n";
            return {};
        }
    }
    auto path = std::string("/api/admin/purge");
    if (!command.queue.empty()) path += "?queue=" + encode_path_segment(command.queue);
    auto answer = client.request("POST", path);
    if (!answer) return answer.error();
    if (answer->status != 200) return failure(describe_failure(*answer, "purge", client.url()));
    auto body = Json::parse(answer->body, nullptr, false);
    std::cout << fmt::format("purged {} messages from {}; {} queued jobs recorded as purged\n",
                             body.value("purged_messages", 0), body.value("queue", queue),
                             body.value("jobs_marked_purged", 0));
    return {};
}

// Starts a restart and follows its phases until it finishes.
Result<void> run_operation(const ManagementClient& client, const std::string& route,
                           double wait_seconds) {
    auto answer = client.request("POST", route);
    if (!answer) return answer.error();
    if (answer->status != 202) return failure(describe_failure(*answer, route, client.url()));
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(wait_seconds));
    std::size_t shown = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        auto status = fetch_status(client);
        if (!status) return status.error();
        const auto& operation = (*status)["operation"];
        const auto steps = operation.value("steps", Json::array());
        for (; shown < steps.size(); ++shown) {
            std::cout << "  " << steps[shown].get<std::string>() << "\n" << std::flush;
        }
        if (!operation.value("running", true)) {
            auto result = operation.value("result", "");
            std::cout << result << "\n";
            if (result.find("failed") != std::string::npos) return failure(result);
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return failure(
        fmt::format("the operation still runs after {} s; follow it with `imgbus admin "
                    "status`",
                    wait_seconds));
}

Result<void> monitor(const ManagementClient& client, const AdminCommand& command) {
    return refresh_loop(command.interval_seconds, command.duration_seconds,
                        [&client] { return status_frame(client); });
}

constexpr std::string_view kMenu =
    "\n  1) status\n"
    "  2) purge the job queue\n"
    "  3) restart the worker pool (in-flight jobs finish, the rest are requeued)\n"
    "  4) ordered restart (pause uploads, drain or requeue, restart workers, resume)\n"
    "  5) monitor (Ctrl-C returns here)\n"
    "  q) quit\n"
    "choice: ";

void run_menu(const ManagementClient& client, AdminCommand command) {
    std::cout << "imgbus admin for " << client.url() << "\n";
    std::string choice;
    while (std::cout << kMenu << std::flush && std::getline(std::cin, choice)) {
        Result<void> done;
        command.yes = false;
        command.duration_seconds = 0;
        if (choice == "1")
            done = show_status(client, false);
        else if (choice == "2")
            done = purge(client, command);
        else if (choice == "3")
            done = run_operation(client, "/api/admin/restart-workers", command.wait_seconds);
        else if (choice == "4")
            done = run_operation(client, "/api/admin/restart", command.wait_seconds);
        else if (choice == "5")
            done = monitor(client, command);
        else if (choice == "q" || choice == "quit")
            return;
        else
            std::cout << "choose 1 to 5, or q\n";
        if (!done) std::cout << "failed: " << done.error().message << "\n";
    }
}

void run(CLI::App& admin, const AdminCommand& command) {
    setup_logging("warn");
    auto client = ManagementClient::connect(command.connection);
    if (!client) fail(client.error().message);
    auto chosen = [&admin](const char* name) { return admin.get_subcommand(name)->parsed(); };
    Result<void> done;
    if (chosen("status"))
        done = show_status(*client, command.json);
    else if (chosen("purge"))
        done = purge(*client, command);
    else if (chosen("restart-workers"))
        done = run_operation(*client, "/api/admin/restart-workers", command.wait_seconds);
    else if (chosen("restart"))
        done = run_operation(*client, "/api/admin/restart", command.wait_seconds);
    else if (chosen("monitor"))
        done = monitor(*client, command);
    else if (interactive_terminal())
        run_menu(*client, command);
    else
        fail(
            "choose a subcommand: status, purge, restart-workers, restart or monitor (the menu "
            "needs a terminal)");
    if (!done) fail(done.error().message);
}

}  // namespace

void register_admin(CLI::App& app) {
    auto options = std::make_shared<AdminCommand>();
    auto* admin = app.add_subcommand(
        "admin", "Recover an imgbus server: status, purge, restart workers, ordered restart");
    admin->require_subcommand(0, 1);
    add_connection_flags(*admin, options->connection);
    admin
        ->add_option("--wait", options->wait_seconds,
                     "seconds to follow a restart before giving up")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
    admin->fallthrough();

    auto* status = admin->add_subcommand("status", "Show every module's state");
    status->add_flag("--json", options->json, "print the server's JSON");
    auto* purge = admin->add_subcommand(
        "purge", "Empty the job queue (or QUEUE); its queued jobs are recorded as purged");
    purge->add_option("QUEUE", options->queue, "queue to purge instead of the job queue");
    purge->add_flag("--yes,-y", options->yes, "purge without asking");
    admin->add_subcommand("restart-workers",
                          "Restart the worker pool; running jobs finish, held ones are requeued");
    admin->add_subcommand("restart",
                          "Ordered restart: pause uploads, drain or requeue, restart the workers, "
                          "resume uploads");
    auto* monitor = admin->add_subcommand("monitor", "Refresh the status and the queue table");
    monitor->add_option("--interval", options->interval_seconds, "seconds between refreshes")
        ->check(CLI::Range(0.2, 3600.0))
        ->capture_default_str();
    monitor->add_option("--duration", options->duration_seconds, "stop after this many seconds")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    admin->callback([admin, options] { run(*admin, *options); });
}

}  // namespace imgbus::cli
