// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "imgbus/result.hpp"

namespace imgbus::broker {

enum class RecordType : std::uint8_t {
    snapshot = 1,  // first record of a compacted segment: older segments are obsolete
    exchange_declare,
    exchange_delete,
    queue_declare,
    queue_delete,
    bind,
    unbind,
    publish,    // a persistent message entering a durable queue, with its id
    delivered,  // the message with this id was delivered once: it comes back redelivered
    remove,     // the message with this id left its queue (ack, drop, expiry, purge, delete)
};

// Builds record payloads: integers big-endian, strings with a 32-bit length.
class PayloadWriter {
  public:
    void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
    void u32(std::uint32_t value);
    void u64(std::uint64_t value);
    void str(std::string_view text);
    std::string& bytes() { return out_; }

  private:
    std::string out_;
};

// Reads what PayloadWriter wrote; every read after a short buffer fails and sets failed().
class PayloadReader {
  public:
    explicit PayloadReader(std::string_view in) : in_(in) {}
    std::uint8_t u8();
    std::uint32_t u32();
    std::uint64_t u64();
    std::string str();
    std::string_view rest() const { return in_.substr(offset_); }
    void skip(std::size_t count) { offset_ += count; }
    bool failed() const { return failed_; }
    void fail() { failed_ = true; }

  private:
    bool take(std::size_t count);
    std::string_view in_;
    std::size_t offset_ = 0;
    bool failed_ = false;
};

// Appends one framed record to `out`: the length (u32), the CRC32 (u32), the type octet and the
// payload. The length and the CRC cover the type octet and the payload.
void frame_record(std::string& out, RecordType type, std::string_view payload);

struct JournalOptions {
    std::filesystem::path dir;
    std::uint64_t segment_bytes = std::uint64_t{64} << 20;
    std::uint64_t compact_min_bytes = std::uint64_t{32} << 20;
    std::chrono::microseconds sync_interval{2000};
    bool fsync = true;
};

struct JournalStats {
    std::uint64_t bytes = 0;
    std::uint64_t live_bytes = 0;
    std::uint64_t syncs_total = 0;
    std::uint64_t compactions_total = 0;
};

// Append-only segment files "journal-<seq>.log" under one directory, each starting with an
// 8-byte magic. append() writes a record to the file at once, so a kill -9 cannot lose it,
// unless it is deferred (Write::with_sync): then it waits in memory, in order, and goes to the
// file in one write() with the other deferred records, just before the next fdatasync, or
// before the next record written at once. A sync thread starts a batch at the first unsynced
// record, lets it grow while records keep arriving (a gap of sync_interval / 8 ends it; it
// never grows past sync_interval), calls fdatasync once and runs the callbacks registered with
// after_sync() (group commit). Compaction writes the live state into a new segment under a
// temporary name, fsyncs it, renames it, fsyncs the directory and only then deletes the older
// segments. Thread-safe.
class Journal {
  public:
    using ReplayFn = std::function<Result<void>(RecordType, std::string_view payload,
                                                std::uint32_t record_bytes)>;

    explicit Journal(JournalOptions options);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // Reads every segment in order and hands each record to `apply`. A torn or corrupt record
    // at the end of the last segment is cut off; one in an earlier segment is an error. Then
    // opens a fresh segment for appends.
    Result<void> replay(const ReplayFn& apply);
    // Starts the sync thread; `compact` is called from it when compaction_due().
    void start(std::function<void()> compact);
    // Syncs what is pending, runs the last callbacks and joins the sync thread.
    void stop();

    // now: written before append() returns. with_sync: written with the next fdatasync; for
    // records whose effect is reported only after the sync (a confirmed publish).
    enum class Write { now, with_sync };
    Result<void> append(RecordType type, std::string_view payload, Write write = Write::now);
    // Counts a publish record of `record_bytes` as live until forget(id).
    void track(std::uint64_t id, std::uint32_t record_bytes);
    void forget(std::uint64_t id);
    // Calls done(true) after an fsync covering every record appended so far, done(false) if
    // the journal failed. Never calls it inline.
    void after_sync(std::function<void(bool)> done);

    bool compaction_due() const;
    // Replaces every segment with one holding a snapshot record and then `records` (framed).
    // The caller holds whatever lock keeps appends out while it runs.
    Result<void> rewrite(const std::string& records,
                         const std::vector<std::pair<std::uint64_t, std::uint32_t>>& live);

    JournalStats stats() const;

  private:
    struct Segment;
    Result<void> open_segment(std::uint64_t seq);
    Result<void> replay_segment(const std::filesystem::path& path, bool last,
                                const ReplayFn& apply);
    void sync_loop(const std::function<void()>& compact);
    void gather_batch(std::unique_lock<std::mutex>& lock);
    bool write_deferred();  // with mutex_ held; false (and failed_) on a write error
    void mark_dirty();
    Error io_error(const std::string& what, const std::filesystem::path& path) const;

    const JournalOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::shared_ptr<Segment> active_;
    std::uint64_t next_seq_ = 1;
    std::vector<std::function<void(bool)>> waiters_;
    bool dirty_ = false;
    std::chrono::steady_clock::time_point dirty_since_;
    std::uint64_t appends_ = 0;  // records appended, to see whether a batch still grows
    std::string deferred_;       // framed with_sync records not written yet
    bool stopping_ = false;
    bool failed_ = false;
    std::uint64_t bytes_ = 0;
    std::uint64_t live_bytes_ = 0;
    std::uint64_t syncs_total_ = 0;
    std::uint64_t compactions_total_ = 0;
    std::unordered_map<std::uint64_t, std::uint32_t> live_;
    std::thread sync_thread_;
};

}  // namespace imgbus::broker
