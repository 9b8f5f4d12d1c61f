// SPDX-License-Identifier: MIT
#include "deferred_etag.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "digest.hpp"
#include "imgbus/log.hpp"
#include "object_file.hpp"
#include "text.hpp"

namespace imgbus::store {
namespace {

constexpr std::size_t kPlaceholderChars = 32;
constexpr std::size_t kReadPiece = 256 * 1024;

bool same_file(int first, int second) {
    struct stat a {};
    struct stat b {};
    return ::fstat(first, &a) == 0 && ::fstat(second, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

// Returns where the ETag's value starts in the file, or 0 when `pending` is not found there.
Result<std::uint64_t> find_placeholder(int fd, const std::string& pending,
                                       const std::filesystem::path& path) {
    std::uint8_t prefix[kObjectPrefixBytes];
    auto got = read_at(fd, 0, prefix, path);
    if (!got) return got.error();
    if (*got != sizeof prefix) return std::uint64_t{0};
    const std::uint32_t json_size =
        static_cast<std::uint32_t>(prefix[12]) | static_cast<std::uint32_t>(prefix[13]) << 8 |
        static_cast<std::uint32_t>(prefix[14]) << 16 | static_cast<std::uint32_t>(prefix[15]) << 24;
    std::string json(std::min<std::size_t>(json_size, kMaxMetadataJsonBytes), '\0');
    got = read_at(fd, kObjectPrefixBytes,
                  {reinterpret_cast<std::uint8_t*>(json.data()), json.size()}, path);
    if (!got) return got.error();
    // Quotes inside JSON strings are escaped, so this can only match the etag field itself.
    const auto at = json.find("\"etag\":\"" + pending + "\"");
    if (at == std::string::npos) return std::uint64_t{0};
    return kObjectPrefixBytes + at + 8;
}

}  // namespace

bool is_pending_etag(std::string_view etag) {
    return std::any_of(etag.begin(), etag.end(), [](char c) { return c >= 'g' && c <= 'v'; });
}

std::string pending_etag(std::string_view prefix, std::uint64_t counter) {
    std::string placeholder;
    placeholder.reserve(kPlaceholderChars);
    for (std::size_t i = 0; i < 16; ++i) {
        const char digit = i < prefix.size() ? prefix[i] : '0';
        const int value = digit >= 'a' ? digit - 'a' + 10 : digit - '0';
        placeholder += static_cast<char>('g' + (value & 0x0F));
    }
    for (int shift = 60; shift >= 0; shift -= 4) {
        placeholder += static_cast<char>('g' + ((counter >> shift) & 0x0F));
    }
    return placeholder;
}

Result<std::string> md5_of_file_range(int fd, std::uint64_t offset, std::uint64_t size,
                                      const std::filesystem::path& path,
                                      const std::atomic<bool>* cancel) {
    Md5Stream md5;
    std::vector<std::uint8_t> piece(static_cast<std::size_t>(
        std::min<std::uint64_t>(kReadPiece, std::max<std::uint64_t>(size, 1))));
    for (std::uint64_t done = 0; done < size;) {
        if (cancel != nullptr && cancel->load()) {
            return make_error(Errc::io_error, "computing the ETag of " + path.string() +
                                                  " was cancelled because the store is closing");
        }
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), size - done));
        auto got = read_at(fd, offset + done, std::span(piece).first(want), path);
        if (!got) return got.error();
        if (*got != want) {
            return make_error(Errc::io_error, "object file " + path.string() +
                                                  " ended early while computing its ETag");
        }
        md5.update(std::span(piece).first(want));
        done += want;
    }
    return md5.finish_hex();
}

Result<void> replace_pending_etag(const std::filesystem::path& path, int read_fd,
                                  const std::string& pending, const std::string& md5) {
    FileHandle file(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file.valid()) {
        // Deleted or replaced since it was read: the new version has its own ETag.
        return errno == ENOENT ? Result<void>{} : io_failure("open", path, errno);
    }
    if (pending.size() != kPlaceholderChars || md5.size() != kPlaceholderChars ||
        !same_file(file.get(), read_fd)) {
        return {};
    }
    auto at = find_placeholder(read_fd, pending, path);
    if (!at) return at.error();
    if (*at == 0) return {};  // filled by another reader
    if (::pwrite(file.get(), md5.data(), md5.size(), static_cast<off_t>(*at)) !=
        static_cast<ssize_t>(md5.size())) {
        return io_failure("write the ETag of", path, errno);
    }
    return {};
}

void EtagBackfill::push(std::string bucket, std::string key) {
    if (stopping_.load()) return;
    if (queued_.fetch_add(1) >= kMaxQueued) {
        queued_.fetch_sub(1);
        // Logged on the first drop and every 10,000th after it.
        if (dropped_.fetch_add(1) % 10'000 == 0) {
            module_logger("store")->warn(
                "the ETag backfill queue holds {} objects; further ones wait for their first "
                "read, which computes the ETag",
                kMaxQueued);
        }
        return;
    }
    last_push_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
    auto* node = new Node{std::move(bucket), std::move(key)};
    node->next = head_.load();
    while (!head_.compare_exchange_weak(node->next, node)) {
    }
    std::call_once(started_, [this] { thread_ = std::thread([this] { run(); }); });
    signal_.fetch_add(1);
    signal_.notify_one();
}

void EtagBackfill::stop() {
    stopping_ = true;
    signal_.fetch_add(1);
    signal_.notify_all();
    // A push racing this stop may start the thread late. Both go through call_once, so the join
    // below sees a thread that such a push started.
    std::call_once(started_, [] {});
    if (thread_.joinable()) thread_.join();
    free_list(head_.exchange(nullptr));
}

void EtagBackfill::wait_for_quiet() {
    using Clock = std::chrono::steady_clock;
    constexpr auto kSlice = std::chrono::milliseconds(50);  // how soon a stop is noticed
    while (!stopping_.load()) {
        const auto last = Clock::time_point(Clock::duration(last_push_ns_.load()));
        const auto quiet_at = last + kQuiet;
        const auto now = Clock::now();
        if (now >= quiet_at) return;
        std::this_thread::sleep_for(std::min<Clock::duration>(quiet_at - now, kSlice));
    }
}

EtagBackfill::Node* EtagBackfill::take_all() {
    Node* newest_first = head_.exchange(nullptr);
    Node* oldest_first = nullptr;
    while (newest_first != nullptr) {
        Node* next = newest_first->next;
        newest_first->next = oldest_first;
        oldest_first = newest_first;
        newest_first = next;
    }
    return oldest_first;
}

void EtagBackfill::free_list(Node* node) {
    while (node != nullptr) {
        Node* next = node->next;
        delete node;
        node = next;
    }
}

void EtagBackfill::run() {
    // Lowering a thread's own priority needs no privilege. Raising it again failed with EPERM for
    // an unprivileged user with RLIMIT_NICE 0 (tried on Debian 12), so the thread stays there.
    sched_param idle{};
    if (int failed = ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle); failed != 0) {
        module_logger("store")->info("the ETag backfill runs at normal priority: {}",
                                     std::generic_category().message(failed));
    }
    while (!stopping_.load()) {
        const auto seen = signal_.load();
        Node* batch = take_all();
        if (batch == nullptr) {
            signal_.wait(seen);
            continue;
        }
        while (batch != nullptr && !stopping_.load()) {
            wait_for_quiet();
            if (stopping_.load()) break;
            Node* node = batch;
            batch = node->next;
            try {
                fill_(node->bucket, node->key, stopping_);
            } catch (const std::exception& e) {
                // The object keeps its placeholder, and its first read computes the ETag.
                module_logger("store")->error("computing the ETag of {} in bucket '{}' failed: {}",
                                              quote_for_message(node->key), node->bucket, e.what());
            }
            delete node;
            queued_.fetch_sub(1);
        }
        free_list(batch);
    }
}

}  // namespace imgbus::store
