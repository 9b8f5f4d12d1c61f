// SPDX-License-Identifier: MIT
#include "journal.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "imgbus/broker/broker.hpp"

namespace imgbus::broker {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "IMGBJNL1";
constexpr std::size_t kFrameHeader = 8;
// A record longer than this is treated as corruption, not as a reason to allocate.
constexpr std::uint32_t kMaxRecordBytes = 1u << 30;
// Deferred records past this size are written at once instead of waiting for the sync thread.
constexpr std::size_t kMaxDeferredBytes = std::size_t{4} << 20;

std::uint32_t crc_of(std::string_view data) {
    return static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::uint32_t read_u32(const char* p) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(p[i]);
    return value;
}

fs::path segment_path(const fs::path& dir, std::uint64_t seq) {
    char name[40];
    std::snprintf(name, sizeof name, "journal-%012llu.log", static_cast<unsigned long long>(seq));
    return dir / name;
}

// The sequence number of a segment file name, or 0 for any other file.
std::uint64_t segment_seq(const fs::path& path) {
    const std::string name = path.filename().string();
    if (!name.starts_with("journal-") || !name.ends_with(".log")) return 0;
    try {
        return std::stoull(name.substr(8, name.size() - 12));
    } catch (const std::exception&) {
        return 0;
    }
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

bool sync_directory(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return false;
    bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

struct Journal::Segment {
    int fd = -1;
    std::uint64_t seq = 0;
    std::uint64_t size = 0;
    fs::path path;
    ~Segment() {
        if (fd >= 0) ::close(fd);
    }
};

void PayloadWriter::u32(std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(value >> shift));
}

void PayloadWriter::u64(std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(value >> shift));
}

void PayloadWriter::str(std::string_view text) {
    u32(static_cast<std::uint32_t>(text.size()));
    out_.append(text);
}

bool PayloadReader::take(std::size_t count) {
    if (failed_ || in_.size() - offset_ < count) {
        failed_ = true;
        return false;
    }
    return true;
}

std::uint8_t PayloadReader::u8() {
    if (!take(1)) return 0;
    return static_cast<std::uint8_t>(in_[offset_++]);
}

std::uint32_t PayloadReader::u32() {
    if (!take(4)) return 0;
    std::uint32_t value = read_u32(in_.data() + offset_);
    offset_ += 4;
    return value;
}

std::uint64_t PayloadReader::u64() {
    std::uint64_t high = u32();
    return (high << 32) | u32();
}

std::string PayloadReader::str() {
    std::uint32_t length = u32();
    if (!take(length)) return {};
    std::string text(in_.substr(offset_, length));
    offset_ += length;
    return text;
}

void frame_record(std::string& out, RecordType type, std::string_view payload) {
    std::string body;
    body.reserve(payload.size() + 1);
    body.push_back(static_cast<char>(type));
    body.append(payload);
    PayloadWriter header;
    header.u32(static_cast<std::uint32_t>(body.size()));
    header.u32(crc_of(body));
    out += header.bytes();
    out += body;
}

Journal::Journal(JournalOptions options) : options_(std::move(options)) {}

Journal::~Journal() { stop(); }

void Journal::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (sync_thread_.joinable()) sync_thread_.join();
    std::lock_guard lock(mutex_);
    if (active_ && !failed_) (void)write_deferred();  // a journal whose thread never started
}

Error Journal::io_error(const std::string& what, const fs::path& path) const {
    return make_error(Errc::journal_failed, "broker journal: cannot " + what + " " + path.string() +
                                                ": " + std::strerror(errno) +
                                                "; check the disk and the data directory");
}

Result<void> Journal::open_segment(std::uint64_t seq) {
    auto segment = std::make_shared<Segment>();
    segment->seq = seq;
    segment->path = segment_path(options_.dir, seq);
    segment->fd = ::open(segment->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (segment->fd < 0) return io_error("create", segment->path);
    if (!write_all(segment->fd, kMagic)) return io_error("write", segment->path);
    if (options_.fsync && !sync_directory(options_.dir)) return io_error("sync", options_.dir);
    segment->size = kMagic.size();
    bytes_ += segment->size;
    active_ = std::move(segment);
    next_seq_ = seq + 1;
    return {};
}

Result<void> Journal::replay(const ReplayFn& apply) {
    std::error_code error;
    fs::create_directories(options_.dir, error);
    if (error) {
        errno = error.value();
        return io_error("create the directory", options_.dir);
    }
    std::vector<std::pair<std::uint64_t, fs::path>> segments;
    for (const auto& entry : fs::directory_iterator(options_.dir, error)) {
        if (entry.path().extension() == ".tmp") {
            fs::remove(entry.path(), error);  // an interrupted compaction
        } else if (std::uint64_t seq = segment_seq(entry.path())) {
            segments.emplace_back(seq, entry.path());
        }
    }
    std::sort(segments.begin(), segments.end());
    for (std::size_t i = 0; i < segments.size(); ++i) {
        bool last = i + 1 == segments.size();
        if (auto replayed = replay_segment(segments[i].second, last, apply); !replayed) {
            return replayed;
        }
        bytes_ += fs::file_size(segments[i].second, error);
    }
    std::lock_guard lock(mutex_);
    return open_segment(segments.empty() ? 1 : segments.back().first + 1);
}

Result<void> Journal::replay_segment(const fs::path& path, bool last, const ReplayFn& apply) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return io_error("read", path);
    std::size_t offset = kMagic.size();
    bool intact = data.compare(0, kMagic.size(), kMagic) == 0;
    while (intact && offset < data.size()) {
        if (data.size() - offset < kFrameHeader) break;
        const std::uint32_t length = read_u32(data.data() + offset);
        const std::uint32_t crc = read_u32(data.data() + offset + 4);
        if (length == 0 || length > kMaxRecordBytes ||
            data.size() - offset - kFrameHeader < length) {
            break;
        }
        std::string_view body(data.data() + offset + kFrameHeader, length);
        if (crc_of(body) != crc) break;
        auto applied = apply(static_cast<RecordType>(body[0]), body.substr(1),
                             static_cast<std::uint32_t>(length + kFrameHeader));
        if (!applied) return applied;
        offset += kFrameHeader + length;
    }
    if (offset == data.size() && intact) return {};
    if (!last) {
        return make_error(Errc::journal_failed,
                          "broker journal: segment " + path.string() + " is corrupt at byte " +
                              std::to_string(offset) +
                              " and later segments exist; restore the data directory from a "
                              "backup or move the journal away to start empty");
    }
    // A torn tail from a crash: cut it off so that no later append follows garbage.
    if (::truncate(path.c_str(), static_cast<off_t>(intact ? offset : 0)) != 0) {
        return io_error("truncate the torn tail of", path);
    }
    return {};
}

void Journal::start(std::function<void()> compact) {
    sync_thread_ = std::thread([this, compact = std::move(compact)] { sync_loop(compact); });
}

Result<void> Journal::append(RecordType type, std::string_view payload, Write write) {
    std::lock_guard lock(mutex_);
    if (failed_) {
        return make_error(Errc::journal_failed,
                          "broker journal in " + options_.dir.string() +
                              " failed earlier and accepts no records; restart the server");
    }
    if (active_->size >= options_.segment_bytes) {
        if (!write_deferred()) return io_error("append to", active_->path);
        if (options_.fsync && ::fdatasync(active_->fd) != 0) {
            failed_ = true;
            return io_error("sync", active_->path);
        }
        if (auto opened = open_segment(next_seq_); !opened) {
            failed_ = true;
            return opened;
        }
    }
    const std::size_t before = deferred_.size();
    frame_record(deferred_, type, payload);
    const std::size_t framed = deferred_.size() - before;
    // A deferred record waits for the sync thread; a large backlog is written at once.
    if ((write == Write::now || deferred_.size() >= kMaxDeferredBytes) && !write_deferred()) {
        return io_error("append to", active_->path);
    }
    active_->size += framed;
    bytes_ += framed;
    ++appends_;
    mark_dirty();
    return {};
}

// Writes the deferred records in one write(); the caller holds mutex_.
bool Journal::write_deferred() {
    if (deferred_.empty()) return true;
    const bool written = write_all(active_->fd, deferred_);
    deferred_.clear();
    if (!written) failed_ = true;
    return written;
}

void Journal::mark_dirty() {
    if (dirty_) return;
    dirty_ = true;
    dirty_since_ = std::chrono::steady_clock::now();
    wake_.notify_one();
}

void Journal::track(std::uint64_t id, std::uint32_t record_bytes) {
    std::lock_guard lock(mutex_);
    if (live_.emplace(id, record_bytes).second) live_bytes_ += record_bytes;
}

void Journal::forget(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    if (auto found = live_.find(id); found != live_.end()) {
        live_bytes_ -= found->second;
        live_.erase(found);
    }
}

void Journal::after_sync(std::function<void(bool)> done) {
    std::lock_guard lock(mutex_);
    waiters_.push_back(std::move(done));
    mark_dirty();
}

bool Journal::compaction_due() const {
    std::lock_guard lock(mutex_);
    return !failed_ && bytes_ > options_.compact_min_bytes && live_bytes_ * 2 < bytes_;
}

// Group commit: wait for the first unsynced record, let the batch grow while records arrive,
// then write the deferred records, fdatasync once and run the callbacks of everything appended
// before it. Records appended during the fdatasync form the next batch.
void Journal::sync_loop(const std::function<void()>& compact) {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || dirty_; });
        gather_batch(lock);
        bool ok = !failed_ && write_deferred();
        auto waiters = std::move(waiters_);
        waiters_.clear();
        auto segment = active_;
        bool was_dirty = std::exchange(dirty_, false);
        lock.unlock();

        if (was_dirty && ok && options_.fsync && ::fdatasync(segment->fd) != 0) ok = false;
        lock.lock();
        if (!ok) failed_ = true;
        ++syncs_total_;
        lock.unlock();
        for (auto& done : waiters) done(ok);
        if (ok && compaction_due()) compact();
        lock.lock();
        if (stopping_ && !dirty_) return;
    }
}

// Waits while records keep arriving: the batch ends after a gap of sync_interval / 8 without a
// new record, or sync_interval after its first record. A publisher with many messages in flight
// sends them back to back, so its whole window goes into one fdatasync; a lone record waits only
// for the gap.
void Journal::gather_batch(std::unique_lock<std::mutex>& lock) {
    const auto deadline = dirty_since_ + options_.sync_interval;
    const auto gap = options_.sync_interval / 8;
    while (!stopping_) {
        const std::uint64_t seen = appends_;
        const auto until = std::min(deadline, std::chrono::steady_clock::now() + gap);
        wake_.wait_until(lock, until, [this] { return stopping_; });
        if (appends_ == seen || std::chrono::steady_clock::now() >= deadline) return;
    }
}

Result<void> Journal::rewrite(const std::string& records,
                              const std::vector<std::pair<std::uint64_t, std::uint32_t>>& live) {
    std::lock_guard lock(mutex_);
    // The snapshot contains every live message, deferred ones too. The deferred records still
    // go to the old segment, deleted below, only to keep the order of writes simple.
    if (!write_deferred()) return io_error("append to", active_->path);
    const std::uint64_t seq = next_seq_;
    const fs::path final_path = segment_path(options_.dir, seq);
    fs::path temp_path = final_path;
    temp_path += ".tmp";

    std::string data(kMagic);
    frame_record(data, RecordType::snapshot, {});
    data += records;
    int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("create", temp_path);
    bool written = write_all(fd, data) && (!options_.fsync || ::fdatasync(fd) == 0);
    ::close(fd);
    if (!written) return io_error("write", temp_path);
    if (::rename(temp_path.c_str(), final_path.c_str()) != 0) return io_error("rename", temp_path);
    if (options_.fsync && !sync_directory(options_.dir)) return io_error("sync", options_.dir);

    // The snapshot is durable: the older segments can go.
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(options_.dir, error)) {
        std::uint64_t other = segment_seq(entry.path());
        if (other != 0 && other < seq) fs::remove(entry.path(), error);
    }
    bytes_ = data.size();
    live_.clear();
    live_bytes_ = 0;
    for (const auto& [id, size] : live) {
        live_.emplace(id, size);
        live_bytes_ += size;
    }
    ++compactions_total_;
    return open_segment(seq + 1);
}

JournalStats Journal::stats() const {
    std::lock_guard lock(mutex_);
    return JournalStats{bytes_, live_bytes_, syncs_total_, compactions_total_};
}

}  // namespace imgbus::broker
