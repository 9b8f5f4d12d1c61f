// SPDX-License-Identifier: MIT
#include "queue_table.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace imgbus::cli {
namespace {

std::uint64_t count_field(const nlohmann::json& item, const char* key) {
    auto found = item.find(key);
    if (found == item.end() || !found->is_number()) return 0;
    return found->is_number_unsigned()
               ? found->get<std::uint64_t>()
               : static_cast<std::uint64_t>(std::max<double>(0, found->get<double>()));
}

double rate_field(const nlohmann::json& stats, const std::string& key) {
    auto details = stats.find(key + "_details");
    if (details == stats.end() || !details->is_object()) return 0;
    auto rate = details->find("rate");
    return rate != details->end() && rate->is_number() ? rate->get<double>() : 0;
}

std::string display_name(const QueueRow& row, bool with_vhost) {
    return with_vhost ? row.vhost + " " + row.name : row.name;
}

}  // namespace

std::vector<QueueRow> parse_queue_rows(const nlohmann::json& queues) {
    std::vector<QueueRow> rows;
    if (!queues.is_array()) return rows;
    for (const auto& item : queues) {
        if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) continue;
        QueueRow row;
        row.name = item["name"];
        if (item.contains("vhost") && item["vhost"].is_string()) row.vhost = item["vhost"];
        row.ready = count_field(item, "messages_ready");
        row.unacked = count_field(item, "messages_unacknowledged");
        row.consumers = count_field(item, "consumers");
        if (auto stats = item.find("message_stats"); stats != item.end() && stats->is_object()) {
            row.publish_rate = rate_field(*stats, "publish");
            row.deliver_rate = rate_field(*stats, "deliver_get");
            row.ack_rate = rate_field(*stats, "ack");
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string format_queue_table(const std::vector<QueueRow>& rows) {
    bool with_vhost =
        std::any_of(rows.begin(), rows.end(), [](const QueueRow& row) { return row.vhost != "/"; });
    std::size_t width = 5;
    for (const auto& row : rows) width = std::max(width, display_name(row, with_vhost).size());
    std::string out = fmt::format("{:<{}}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}  {:>10}\n",
                                  with_vhost ? "vhost queue" : "queue", width, "ready", "unacked",
                                  "consumers", "publish/s", "deliver/s", "ack/s");
    for (const auto& row : rows) {
        out += fmt::format("{:<{}}  {:>9}  {:>9}  {:>9}  {:>10.1f}  {:>10.1f}  {:>10.1f}\n",
                           display_name(row, with_vhost), width, row.ready, row.unacked,
                           row.consumers, row.publish_rate, row.deliver_rate, row.ack_rate);
    }
    if (rows.empty()) out += "(no queues)\n";
    return out;
}

}  // namespace imgbus::cli
