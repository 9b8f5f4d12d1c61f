// SPDX-License-Identifier: MIT
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "imgbus/broker/broker.hpp"
#include "imgbus/metrics/metrics.hpp"
#include "imgbus/result.hpp"
#include "imgbus/store/object_store.hpp"
#include "imgbus/worker/job.hpp"

namespace imgbus::http {

// The uploaded image of a batch.
struct InputInfo {
    std::string format;  // "jpeg" or "png"
    int width = 0;
    int height = 0;
    std::uint64_t bytes = 0;
    std::string filename;  // as sent by the client; only shown, never used as a path
    std::string content_type;
    worker::ObjectRef object;
};

// What the frontend knows about one job: the message it published plus the latest event.
// How often the frontend tries again to publish recovered jobs that the broker did not take.
inline constexpr std::chrono::seconds kRepublishInterval{2};

struct JobRecord {
    worker::JobMessage message;
    InputInfo input;
    worker::JobStatus status = worker::JobStatus::queued;
    std::string error;
    bool redelivered = false;
    int width = 0;
    int height = 0;
    worker::JobTimings timings;
    double total_seconds = 0;  // upload accepted to the done or failed event
    std::chrono::system_clock::time_point created_at;
    std::chrono::system_clock::time_point updated_at;

    bool finished() const;
};

// The job object of docs/api.md.
nlohmann::json job_json(const JobRecord& job);
nlohmann::json input_json(const InputInfo& input);
// The stored form (jobs/<id>.json): the API view plus what recovery needs to publish again.
nlohmann::json storage_json(const JobRecord& job);
Result<JobRecord> parse_storage_json(const std::string& text);

// jobs/<id>.json and back.
std::string record_key(const std::string& id);
std::string record_id(const std::string& key);
// The job records in the store (bucket, jobs/), with their last write times.
Result<std::vector<store::ObjectInfo>> list_records(store::ObjectStore& store,
                                                    const std::string& bucket);
// Builds the record of a job whose stored record cannot be read or parsed: failed, with the
// reason, so that a request for its id returns that instead of 404.
JobRecord unreadable_record(const std::string& key, const std::string& reason,
                            std::chrono::system_clock::time_point written_at);

// Counts of what one retention sweep removed.
struct SweepOutcome {
    std::size_t jobs = 0;     // records deleted, with their results
    std::size_t batches = 0;  // inputs deleted: no job of the batch was left
    std::size_t failed = 0;   // store deletes that failed; retried by the next sweep
};

// The error of a job whose message was purged from the job queue by an operator.
inline constexpr std::string_view kPurgedReason = "purged by an operator";

struct TrackerOptions {
    std::string bucket = "imgbus";
    std::string job_queue{worker::kJobQueue};
    std::string event_queue{worker::kEventQueue};
    std::uint32_t event_prefetch = 256;
    // Jobs kept in memory; beyond this the oldest finished ones are forgotten (their stored
    // records stay in the store but are not reloaded into memory past this count either).
    std::size_t max_tracked_jobs = 100'000;
};

// The job table of the frontend. Status moves forward only: queued → processing → done or
// failed, so an event that arrives late (a "processing" after "done") changes nothing. A record is
// written to the store (bucket, jobs/<id>.json) when the job is created and when it finishes;
// recover() reloads them after a restart and publishes the unfinished jobs again. All methods
// are thread-safe; subscribers are called without the table lock held.
class JobTracker : public std::enable_shared_from_this<JobTracker> {
  public:
    using Subscriber = std::function<void(const JobRecord&)>;

    JobTracker(broker::Broker& broker, store::ObjectStore& store, metrics::Metrics& metrics,
               TrackerOptions options);

    // Records a new job and stores its record.
    Result<void> add(JobRecord job);
    // Applies a worker event. Returns false when the job is unknown or the event is stale.
    bool apply(const worker::JobEvent& event);
    // Ends a job that was never published (the queue filled up during the upload).
    void fail_unpublished(const std::string& id, const std::string& reason);
    // Records every queued job as failed with kPurgedReason after the job queue was purged;
    // returns how many. A later event of such a job (a worker had taken it already) still
    // applies, so the record ends with what really happened.
    std::size_t fail_purged();
    // Jobs by status ("queued", "processing", "done", "failed") in the table.
    std::map<std::string, std::size_t> count_by_status() const;

    std::optional<JobRecord> find(const std::string& id) const;
    // Up to `limit` jobs, the most recently added first, optionally only those in `status`.
    std::vector<JobRecord> recent(std::size_t limit,
                                  std::optional<worker::JobStatus> status = std::nullopt) const;
    std::vector<JobRecord> batch(const std::string& batch_id) const;

    // Loads the stored records and publishes the unfinished jobs again. Returns how many were
    // published.
    Result<std::size_t> recover();

    // Publishes again the recovered jobs whose publish failed (the broker was down), skipping
    // those that finished meanwhile. Returns how many still wait, and sets `reason` to the first
    // failure; the frontend calls it every kRepublishInterval until none wait.
    std::size_t publish_recovered(std::string* reason = nullptr);

    // Deletes finished jobs last written before `cutoff`: their records, their results and,
    // once no job of a batch is left, the batch's input, in the store and in memory. Records
    // that are not in memory (past max_tracked_jobs, or unreadable) are found by listing the
    // store. Unfinished jobs are never deleted.
    Result<SweepOutcome> sweep_finished_before(std::chrono::system_clock::time_point cutoff);

    // Consumes the event queue; each delivery is applied on `executor` and then acked.
    Result<void> start_consuming(boost::asio::any_io_executor executor);
    void stop_consuming();

    std::uint64_t subscribe(Subscriber subscriber);
    void unsubscribe(std::uint64_t id);

  private:
    void notify(const JobRecord& job);
    void persist(const JobRecord& job);
    void insert_locked(JobRecord job);
    void on_delivery(const broker::Delivery& delivery);

    broker::Broker& broker_;
    store::ObjectStore& store_;
    metrics::Metrics& metrics_;
    TrackerOptions options_;

    mutable std::mutex mutex_;
    std::map<std::string, JobRecord> jobs_;
    std::map<std::string, std::vector<std::string>> batches_;  // batch id → job ids in order
    std::deque<std::string> order_;                            // job ids, oldest first

    std::mutex subscribers_mutex_;
    std::map<std::uint64_t, Subscriber> subscribers_;
    std::uint64_t next_subscriber_ = 1;

    std::mutex consumer_mutex_;
    std::string consumer_tag_;

    std::mutex unpublished_mutex_;
    std::vector<worker::JobMessage> unpublished_;  // recovered jobs not yet published again
};

}  // namespace imgbus::http
