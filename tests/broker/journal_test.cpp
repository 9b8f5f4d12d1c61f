// SPDX-License-Identifier: MIT
#include "journal.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <set>

#include "imgbus/broker/broker.hpp"
#include "test_support.hpp"

using namespace imgbus::broker;
using namespace std::chrono_literals;
using imgbus::broker::test::body;
using imgbus::broker::test::ready;
using imgbus::broker::test::TempDir;
using imgbus::broker::test::wait_until;

namespace {

std::unique_ptr<Broker> open_at(const std::filesystem::path& dir, BrokerOptions options = {}) {
    options.data_dir = dir;
    auto broker = open_embedded_broker(options);
    if (!broker) FAIL(broker.error().message);
    return std::move(*broker);
}

void declare_durable(Broker& broker, const std::string& queue) {
    QueueOptions options;
    options.max_length_messages = 1'000'000;
    REQUIRE(broker.queue_declare(queue, options).ok());
}

// Takes every ready message without ack and returns the bodies, oldest first.
std::vector<Delivery> take_all(Broker& broker, const std::string& queue) {
    std::vector<Delivery> all;
    for (;;) {
        auto got = broker.basic_get(0, queue, true);
        REQUIRE(got.ok());
        if (!got->has_value()) return all;
        all.push_back((*got)->delivery);
    }
}

std::filesystem::path last_segment(const std::filesystem::path& dir) {
    std::filesystem::path last;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".log" && entry.path() > last) last = entry.path();
    }
    return last;
}

// "m<i>." followed by 100 dots. Appending in place avoids GCC 12's false -Wrestrict warning on
// operator+ of a literal and a temporary string.
std::string padded(int i) {
    std::string text = "m";
    text += std::to_string(i);
    text.append(100, '.');
    return text;
}

std::size_t segment_count(const std::filesystem::path& dir) {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        count += entry.path().extension() == ".log";
    }
    return count;
}

// What the child reports through the pipe: kind 1 = confirmed, 2 = acked, 3 = delivered and
// not acked, each with the message number.
struct Report {
    std::uint32_t kind;
    std::uint32_t number;
};

[[noreturn]] void run_child(const std::filesystem::path& dir, int out) {
    BrokerOptions options;
    options.data_dir = dir;
    auto opened = open_embedded_broker(options);
    if (!opened) _exit(2);
    Broker& broker = **opened;
    QueueOptions durable;
    durable.max_length_messages = 1'000'000;
    if (!broker.queue_declare("jobs", durable)) _exit(3);
    auto report = [out](std::uint32_t kind, std::uint32_t number) {
        Report r{kind, number};
        if (::write(out, &r, sizeof r) != sizeof r) _exit(4);
    };
    auto publish = [&](std::uint32_t number) {
        PublishOptions confirm;
        confirm.on_confirm = [report, number](bool ack) {
            if (ack) report(1, number);
        };
        if (!broker.basic_publish("", "jobs", body(std::to_string(number), true), confirm)) {
            _exit(5);
        }
    };
    for (std::uint32_t i = 0; i < 1000; ++i) publish(i);
    auto session = broker.open_session("child");
    for (int i = 0; i < 210; ++i) {
        auto got = broker.basic_get(*session, "jobs", false);
        if (!got || !got->has_value()) _exit(6);
        const Delivery& d = (*got)->delivery;
        if (i < 200) {
            if (!broker.basic_ack(*session, d.delivery_tag, false)) _exit(7);
            report(2, static_cast<std::uint32_t>(std::stoul(d.message.body)));
        } else {
            report(3, static_cast<std::uint32_t>(std::stoul(d.message.body)));
        }
    }
    for (std::uint32_t i = 1000;; ++i) publish(i);
}

}  // namespace

TEST_CASE("kill -9 keeps confirmed, drops acked", "[broker]") {
    TempDir dir;
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(pipe_fds[0]);
        run_child(dir.path(), pipe_fds[1]);
    }
    ::close(pipe_fds[1]);

    std::set<std::uint32_t> confirmed, acked, unacked;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    bool killed = false;
    Report report{};
    while (::read(pipe_fds[0], &report, sizeof report) == sizeof report) {
        if (report.kind == 1) confirmed.insert(report.number);
        if (report.kind == 2) acked.insert(report.number);
        if (report.kind == 3) unacked.insert(report.number);
        const bool enough = unacked.size() == 10 && confirmed.size() > 1500;
        if (!killed && (enough || std::chrono::steady_clock::now() > deadline)) {
            ::kill(child, SIGKILL);  // the rest of the pipe is read to its end below
            killed = true;
        }
    }
    ::close(pipe_fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(acked.size() == 200);
    REQUIRE(unacked.size() == 10);
    REQUIRE(confirmed.size() > 1500);

    auto broker = open_at(dir.path());
    std::set<std::uint32_t> recovered;
    std::set<std::uint32_t> redelivered;
    for (const Delivery& d : take_all(*broker, "jobs")) {
        const auto number = static_cast<std::uint32_t>(std::stoul(d.message.body));
        CHECK(recovered.insert(number).second);  // no duplicates
        if (d.redelivered) redelivered.insert(number);
    }
    for (std::uint32_t number : acked) CHECK(recovered.count(number) == 0);
    for (std::uint32_t number : confirmed) {
        if (!acked.contains(number)) CHECK(recovered.count(number) == 1);
    }
    CHECK(redelivered == unacked);
}

TEST_CASE("torn tail record is truncated", "[broker]") {
    TempDir dir;
    {
        auto broker = open_at(dir.path());
        declare_durable(*broker, "jobs");
        for (const char* name : {"one", "two", "three"}) {
            REQUIRE(broker->publish("jobs", body(name, true)).ok());
        }
    }
    const auto segment = last_segment(dir.path());
    const auto intact_size = std::filesystem::file_size(segment);

    SECTION("a half-written record") {
        std::ofstream(segment, std::ios::binary | std::ios::app)
            << std::string("\x00\x00\x01\x00\x12\x34\x56\x78partial", 15);
        auto broker = open_at(dir.path());
        CHECK(ready(*broker, "jobs") == 3);
        CHECK(std::filesystem::file_size(segment) == intact_size);
    }
    SECTION("a flipped byte in the last record") {
        std::fstream file(segment, std::ios::binary | std::ios::in | std::ios::out);
        file.seekp(static_cast<std::streamoff>(intact_size) - 1);
        file.put('\x7f');
        file.close();
        auto broker = open_at(dir.path());
        CHECK(ready(*broker, "jobs") == 2);
        CHECK(std::filesystem::file_size(segment) < intact_size);
        REQUIRE(broker->publish("jobs", body("four", true)).ok());
    }
    auto reopened = open_at(dir.path());
    CHECK(ready(*reopened, "jobs") >= 3);
}

TEST_CASE("compaction keeps live messages", "[broker]") {
    TempDir dir;
    BrokerOptions options;
    options.segment_bytes = 16 << 10;
    options.compact_min_bytes = 32 << 10;
    options.sync_interval = 200us;
    {
        auto broker = open_at(dir.path(), options);
        declare_durable(*broker, "jobs");
        auto session = broker->open_session("test");
        for (int i = 0; i < 600; ++i) {
            REQUIRE(broker->publish("jobs", body(padded(i), true)).ok());
        }
        for (int i = 0; i < 590; ++i) {
            auto got = broker->basic_get(*session, "jobs", false);
            REQUIRE(got->has_value());
            REQUIRE(broker->basic_ack(*session, (*got)->delivery.delivery_tag, false).ok());
        }
        REQUIRE(wait_until([&] { return broker->broker_stats().journal_bytes < 32 << 10; }));
        CHECK(broker->broker_stats().compactions_total > 0);
        const auto stats = broker->broker_stats();
        CHECK(stats.journal_bytes < 32 << 10);
        CHECK(segment_count(dir.path()) <= 3);
    }
    auto reopened = open_at(dir.path(), options);
    auto left = take_all(*reopened, "jobs");
    REQUIRE(left.size() == 10);
    CHECK(left.front().message.body.starts_with("m590."));
    CHECK(left.back().message.body.starts_with("m599."));
}

TEST_CASE("confirm waits for the fsync", "[broker]") {
    TempDir dir;
    BrokerOptions options;
    options.sync_interval = 20ms;
    auto broker = open_at(dir.path(), options);
    declare_durable(*broker, "jobs");
    std::atomic<int> persistent_confirms{0};
    std::atomic<std::uint64_t> syncs_seen{0};
    PublishOptions confirm;
    confirm.on_confirm = [&](bool ack) {
        syncs_seen = broker->broker_stats().journal_syncs_total;
        persistent_confirms += ack ? 1 : 100;
    };
    const auto syncs_before = broker->broker_stats().journal_syncs_total;
    REQUIRE(broker->basic_publish("", "jobs", body("safe", true), confirm).ok());
    CHECK(persistent_confirms == 0);  // the group commit has not run yet
    REQUIRE(wait_until([&] { return persistent_confirms == 1; }));
    CHECK(syncs_seen > syncs_before);

    bool transient_confirmed = false;
    PublishOptions at_once;
    at_once.on_confirm = [&](bool ack) { transient_confirmed = ack; };
    REQUIRE(broker->basic_publish("", "jobs", body("fleeting", false), at_once).ok());
    CHECK(transient_confirmed);
}

TEST_CASE("restart keeps durable topology", "[broker]") {
    TempDir dir;
    {
        auto broker = open_at(dir.path());
        ExchangeOptions topic;
        topic.type = ExchangeType::topic;
        REQUIRE(broker->exchange_declare("events", topic).ok());
        QueueOptions durable;
        durable.arguments = FieldTable{{"x-max-priority", std::uint8_t{3}}};
        REQUIRE(broker->queue_declare("kept", durable).ok());
        QueueOptions transient;
        transient.durable = false;
        REQUIRE(broker->queue_declare("lost", transient).ok());
        REQUIRE(broker->queue_declare("deleted", QueueOptions{}).ok());
        REQUIRE(broker->queue_bind("kept", "events", "job.#", {}).ok());
        Message message = body("persistent", true);
        message.headers.set("attempt", std::int32_t{2});
        message.priority = 2;
        REQUIRE(broker->basic_publish("events", "job.done", message, {})->routed_queues == 1);
        REQUIRE(broker->basic_publish("events", "job.done", body("transient"), {}).ok());
        REQUIRE(broker->delete_queue("deleted").ok());
    }
    auto broker = open_at(dir.path());
    CHECK(broker->queue_stats("lost").error().code == Errc::queue_not_found);
    CHECK(broker->queue_stats("deleted").error().code == Errc::queue_not_found);
    auto kept = take_all(*broker, "kept");
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].message.body == "persistent");
    CHECK(*kept[0].message.headers.find("attempt") == FieldValue(std::int32_t{2}));
    CHECK(kept[0].message.priority == 2);
    CHECK(kept[0].exchange == "events");
    CHECK(kept[0].routing_key == "job.done");
    CHECK(broker->basic_publish("events", "job.x", body("again"), {})->routed_queues == 1);
    QueueOptions redeclare;
    redeclare.arguments = FieldTable{{"x-max-priority", std::uint8_t{3}}};
    CHECK(broker->queue_declare("kept", redeclare).ok());
}

TEST_CASE("corrupt middle segment fails open", "[broker]") {
    TempDir dir;
    {
        auto broker = open_at(dir.path());
        declare_durable(*broker, "jobs");
        REQUIRE(broker->publish("jobs", body("one", true)).ok());
    }
    { auto second = open_at(dir.path()); }  // leaves an empty newer segment
    std::filesystem::path first;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        if (first.empty() || entry.path() < first) first = entry.path();
    }
    std::ofstream(first, std::ios::binary | std::ios::app) << "junk at the end";
    BrokerOptions options;
    options.data_dir = dir.path();
    auto broken = open_embedded_broker(options);
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().code == Errc::journal_failed);
    CHECK_THAT(broken.error().message, Catch::Contains(first.filename().string()));
}

namespace {

// Replays the journal in `dir` and returns its record types in file order.
std::vector<RecordType> replayed_types(const std::filesystem::path& dir) {
    Journal journal(JournalOptions{.dir = dir});
    std::vector<RecordType> types;
    auto replayed = journal.replay([&](RecordType type, std::string_view, std::uint32_t) {
        types.push_back(type);
        return imgbus::Result<void>();
    });
    REQUIRE(replayed.ok());
    return types;
}

}  // namespace

TEST_CASE("deferred record precedes a later one", "[broker]") {
    TempDir dir;
    {
        Journal journal(JournalOptions{.dir = dir.path(), .sync_interval = 1s});
        REQUIRE(journal.replay(
            [](RecordType, std::string_view, std::uint32_t) { return imgbus::Result<void>(); }));
        // No sync thread: only the record written at once can take the deferred one along.
        REQUIRE(journal.append(RecordType::publish, "deferred", Journal::Write::with_sync));
        REQUIRE(journal.append(RecordType::remove, "at once"));
        const auto types = replayed_types(dir.path());
        REQUIRE(types.size() == 2);
        CHECK(types[0] == RecordType::publish);
        CHECK(types[1] == RecordType::remove);
    }
}

TEST_CASE("deferred record is on file after its sync", "[broker]") {
    TempDir dir;
    Journal journal(JournalOptions{.dir = dir.path(), .sync_interval = 1ms});
    REQUIRE(journal.replay(
        [](RecordType, std::string_view, std::uint32_t) { return imgbus::Result<void>(); }));
    journal.start([] {});
    REQUIRE(journal.append(RecordType::publish, "deferred", Journal::Write::with_sync));
    std::promise<bool> synced;
    journal.after_sync([&synced](bool ok) { synced.set_value(ok); });
    REQUIRE(synced.get_future().get());
    const auto types = replayed_types(dir.path());
    REQUIRE(types.size() == 1);
    CHECK(types[0] == RecordType::publish);
    journal.stop();
}
