// SPDX-License-Identifier: MIT
// Job retention: the sweep that deletes finished jobs older than --job-retention (records,
// results, and inputs once their batch is empty), and the timer that runs it.
#include "job_retention.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <set>

#include "batch_keys.hpp"
#include "imgbus/log.hpp"

namespace imgbus::http {
namespace {

using Clock = std::chrono::system_clock;

// The objects of one job that a sweep deletes.
struct Expired {
    std::string id;
    std::string batch;
    worker::ObjectRef output;
    worker::ObjectRef input;
};

}  // namespace

Result<SweepOutcome> JobTracker::sweep_finished_before(Clock::time_point cutoff) {
    auto records = list_records(store_, options_.bucket);
    if (!records) return records.error();

    std::vector<Expired> expired;
    for (const auto& record : *records) {
        if (record.last_modified >= cutoff) continue;
        const auto id = record_id(record.key);
        std::optional<JobRecord> job = find(id);
        if (!job) {
            auto object = store_.get_object(options_.bucket, record.key);
            if (!object) continue;  // deleted meanwhile, or unreadable: the next sweep retries
            auto parsed = parse_storage_json(std::string(object->data.begin(), object->data.end()));
            job = parsed
                      ? std::move(*parsed)
                      : unreadable_record(record.key, parsed.error().message, record.last_modified);
        }
        if (!job->finished() || job->updated_at >= cutoff) continue;
        expired.push_back({id, job->message.batch, job->message.output, job->input.object});
    }

    SweepOutcome outcome;
    std::set<std::string> removed;
    for (const auto& job : expired) {
        if (!job.output.key.empty() && !store_.delete_object(job.output.bucket, job.output.key)) {
            ++outcome.failed;
            continue;
        }
        if (!store_.delete_object(options_.bucket, record_key(job.id))) {
            ++outcome.failed;
            continue;
        }
        removed.insert(job.id);
        ++outcome.jobs;
    }

    std::set<std::string> emptied;  // batches with no job left in memory
    {
        std::lock_guard lock(mutex_);
        for (const auto& job : expired) {
            if (!removed.contains(job.id)) continue;
            jobs_.erase(job.id);
            auto batch = batches_.find(job.batch);
            if (batch == batches_.end()) {
                emptied.insert(job.batch);
                continue;
            }
            std::erase(batch->second, job.id);
            if (batch->second.empty()) {
                batches_.erase(batch);
                emptied.insert(job.batch);
            }
        }
        std::erase_if(order_, [&](const std::string& id) { return removed.contains(id); });
    }

    for (const auto& job : expired) {
        if (job.batch.empty() || !emptied.contains(job.batch) || job.input.key.empty()) continue;
        emptied.erase(job.batch);  // once per batch
        bool deleted = static_cast<bool>(store_.delete_object(job.input.bucket, job.input.key)) &&
                       static_cast<bool>(
                           store_.delete_object(options_.bucket, published_marker_key(job.batch)));
        deleted ? ++outcome.batches : ++outcome.failed;
    }
    return outcome;
}

Clock::time_point retention_cutoff(Clock::time_point now, std::chrono::seconds retention) {
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    if (retention >= since_epoch) return Clock::time_point::min();
    return now - retention;
}

RetentionSweeper::RetentionSweeper(boost::asio::io_context& io, std::shared_ptr<JobTracker> tracker,
                                   std::chrono::seconds retention)
    : tracker_(std::move(tracker)),
      retention_(retention),
      interval_(std::clamp<std::chrono::seconds>(retention / 4, std::chrono::seconds(1),
                                                 std::chrono::hours(1))),
      timer_(boost::asio::make_strand(io)) {}

void RetentionSweeper::start() {
    if (retention_.count() == 0) {
        module_logger("http")->info("job retention off: finished jobs are kept forever");
        return;
    }
    module_logger("http")->info(
        "job retention {} s: finished jobs are deleted by a sweep every {} s", retention_.count(),
        interval_.count());
    boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->schedule(); });
}

void RetentionSweeper::stop() {
    stopped_ = true;
    boost::asio::post(timer_.get_executor(),
                      [self = shared_from_this()] { self->timer_.cancel(); });
}

void RetentionSweeper::schedule() {
    if (stopped_) return;
    timer_.expires_after(interval_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
        if (error || self->stopped_) return;
        self->sweep();
        self->schedule();
    });
}

void RetentionSweeper::sweep() {
    auto log = module_logger("http");
    auto outcome = tracker_->sweep_finished_before(retention_cutoff(Clock::now(), retention_));
    if (!outcome) {
        log->warn("job retention sweep failed: {}; retrying in {} s", outcome.error().message,
                  interval_.count());
        return;
    }
    if (outcome->jobs == 0 && outcome->failed == 0) return;
    log->info(
        "job retention: deleted {} finished jobs older than {} s (records and results) and the "
        "inputs of {} batches; {} deletes failed and are retried",
        outcome->jobs, retention_.count(), outcome->batches, outcome->failed);
}

}  // namespace imgbus::http
