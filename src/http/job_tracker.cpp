// SPDX-License-Identifier: MIT
#include "job_tracker.hpp"

#include <boost/asio/post.hpp>
#include <ctime>

#include "imgbus/log.hpp"
#include "response.hpp"

namespace imgbus::http {
namespace {

using Clock = std::chrono::system_clock;
using worker::JobStatus;
using Json = nlohmann::json;

constexpr std::string_view kRecordPrefix = "jobs/";

int status_rank(JobStatus status) {
    switch (status) {
        case JobStatus::queued:
            return 0;
        case JobStatus::processing:
            return 1;
        case JobStatus::done:
        case JobStatus::failed:
            return 2;
    }
    return 0;
}

std::int64_t to_millis(Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

Clock::time_point from_millis(std::int64_t millis) {
    return Clock::time_point(std::chrono::milliseconds(millis));
}

// ISO 8601 in UTC with milliseconds, such as 2026-12-04T17:00:00.123Z.
std::string format_time(Clock::time_point at) {
    auto millis = to_millis(at);
    std::time_t seconds = static_cast<std::time_t>(millis / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(millis % 1000));
    return text;
}

double ms(double seconds) { return seconds * 1000.0; }

store::PutOptions json_put_options() {
    store::PutOptions options;
    options.content_type = "application/json";
    return options;
}

}  // namespace

std::string record_key(const std::string& id) { return std::string(kRecordPrefix) + id + ".json"; }

std::string record_id(const std::string& key) {
    std::string_view id = key;
    if (id.starts_with(kRecordPrefix)) id.remove_prefix(kRecordPrefix.size());
    if (id.ends_with(".json")) id.remove_suffix(5);
    return std::string(id);
}

JobRecord unreadable_record(const std::string& key, const std::string& reason,
                            std::chrono::system_clock::time_point written_at) {
    JobRecord job;
    job.message.id = record_id(key);
    job.message.op = "unknown";
    job.status = JobStatus::failed;
    job.error = "the job record " + key + " could not be read (" + reason +
                "), so the job's outcome is unknown; upload the image again";
    job.created_at = job.updated_at = written_at;
    return job;
}

bool JobRecord::finished() const {
    return status == JobStatus::done || status == JobStatus::failed;
}

nlohmann::json input_json(const InputInfo& input) {
    return {{"format", input.format},
            {"width", input.width},
            {"height", input.height},
            {"bytes", input.bytes},
            {"filename", input.filename}};
}

// The steps of a pipeline job, each {"op", "params"}; empty for a job of one operation.
Json steps_json(const worker::JobMessage& message) {
    Json steps = Json::array();
    for (const auto& step : message.steps) {
        steps.push_back({{"op", step.op}, {"params", step.params}});
    }
    return steps;
}

nlohmann::json job_json(const JobRecord& job) {
    const auto& t = job.timings;
    const auto& id = job.message.id;
    return {{"id", id},
            {"batch", job.message.batch},
            {"op", job.message.op},
            {"params", job.message.params},
            {"steps", steps_json(job.message)},
            {"threads", job.message.threads},
            {"run", job.message.run},
            {"passes", job.message.passes},
            {"status", worker::to_string(job.status)},
            {"error", job.error},
            {"redelivered", job.redelivered},
            {"width", job.width},
            {"height", job.height},
            {"created_at", format_time(job.created_at)},
            {"updated_at", format_time(job.updated_at)},
            {"timings",
             {{"queue_wait_ms", ms(t.queue_wait_seconds)},
              {"fetch_ms", ms(t.fetch_seconds)},
              {"decode_ms", ms(t.decode_seconds)},
              {"kernel_ms", ms(t.kernel_seconds)},
              {"encode_ms", ms(t.encode_seconds)},
              {"store_ms", ms(t.store_seconds)},
              {"process_ms", ms(t.process_seconds)},
              {"total_ms", ms(job.total_seconds)},
              {"path", t.path.empty() ? nlohmann::json() : nlohmann::json(t.path)}}},
            {"url", "/api/jobs/" + id},
            {"result_url", "/api/jobs/" + id + "/result"}};
}

nlohmann::json storage_json(const JobRecord& job) {
    auto input = input_json(job.input);
    input["content_type"] = job.input.content_type;
    input["bucket"] = job.input.object.bucket;
    input["key"] = job.input.object.key;
    return {{"record_version", 1},
            {"job", job_json(job)},
            {"message", Json::parse(worker::to_json(job.message))},
            {"input", std::move(input)},
            {"created_at_ms", to_millis(job.created_at)},
            {"updated_at_ms", to_millis(job.updated_at)}};
}

Result<JobRecord> parse_storage_json(const std::string& text) {
    auto doc = Json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("message") ||
        !doc.contains("job") || !doc.contains("input")) {
        return store::make_error(store::Errc::io_error,
                                 "job record is not valid JSON of version 1");
    }
    try {
        auto message = worker::parse_job_message(doc["message"].dump());
        if (!message) return message.error();
        JobRecord job;
        job.message = std::move(*message);
        const auto& view = doc["job"];
        auto status = worker::parse_job_status(view.at("status").get<std::string>());
        job.status = status.value_or(JobStatus::queued);
        job.error = view.value("error", "");
        job.redelivered = view.value("redelivered", false);
        job.width = view.value("width", 0);
        job.height = view.value("height", 0);
        const auto& t = view.at("timings");
        job.timings.queue_wait_seconds = t.value("queue_wait_ms", 0.0) / 1000;
        job.timings.fetch_seconds = t.value("fetch_ms", 0.0) / 1000;
        job.timings.decode_seconds = t.value("decode_ms", 0.0) / 1000;
        job.timings.kernel_seconds = t.value("kernel_ms", 0.0) / 1000;
        job.timings.encode_seconds = t.value("encode_ms", 0.0) / 1000;
        job.timings.store_seconds = t.value("store_ms", 0.0) / 1000;
        job.timings.process_seconds = t.value("process_ms", 0.0) / 1000;
        job.timings.path = t.contains("path") && t["path"].is_string()
                               ? t["path"].get<std::string>()
                               : std::string();
        job.total_seconds = t.value("total_ms", 0.0) / 1000;
        const auto& input = doc["input"];
        job.input = InputInfo{input.value("format", ""),
                              input.value("width", 0),
                              input.value("height", 0),
                              input.value("bytes", std::uint64_t{0}),
                              input.value("filename", ""),
                              input.value("content_type", ""),
                              {input.value("bucket", ""), input.value("key", "")}};
        job.created_at = from_millis(doc.value("created_at_ms", std::int64_t{0}));
        job.updated_at = from_millis(doc.value("updated_at_ms", std::int64_t{0}));
        return job;
    } catch (const Json::exception& e) {
        return store::make_error(
            store::Errc::io_error,
            std::string("job record has a field of the wrong type: ") + e.what());
    }
}

JobTracker::JobTracker(broker::Broker& broker, store::ObjectStore& store, metrics::Metrics& metrics,
                       TrackerOptions options)
    : broker_(broker), store_(store), metrics_(metrics), options_(std::move(options)) {}

void JobTracker::insert_locked(JobRecord job) {
    auto id = job.message.id;
    auto [it, inserted] = jobs_.insert_or_assign(id, std::move(job));
    if (!inserted) return;
    if (!it->second.message.batch.empty()) batches_[it->second.message.batch].push_back(id);
    order_.push_back(id);

    // Forget the oldest finished jobs beyond the limit. Unfinished ones go to the back.
    for (std::size_t scanned = order_.size();
         jobs_.size() > options_.max_tracked_jobs && scanned > 0; --scanned) {
        auto oldest = std::move(order_.front());
        order_.pop_front();
        auto found = jobs_.find(oldest);
        if (found != jobs_.end() && !found->second.finished()) {
            order_.push_back(std::move(oldest));
            continue;
        }
        if (found == jobs_.end()) continue;
        auto& ids = batches_[found->second.message.batch];
        std::erase(ids, oldest);
        if (ids.empty()) batches_.erase(found->second.message.batch);
        jobs_.erase(found);
    }
}

Result<void> JobTracker::add(JobRecord job) {
    auto record = dump_json(storage_json(job));
    auto stored = store_.put_object(
        options_.bucket, record_key(job.message.id),
        {reinterpret_cast<const std::uint8_t*>(record.data()), record.size()}, json_put_options());
    if (!stored) return stored.error();
    {
        std::lock_guard lock(mutex_);
        insert_locked(job);
    }
    notify(job);
    return {};
}

bool JobTracker::apply(const worker::JobEvent& event) {
    JobRecord updated;
    {
        std::lock_guard lock(mutex_);
        auto found = jobs_.find(event.id);
        if (found == jobs_.end()) return false;
        auto& job = found->second;
        int current = status_rank(job.status);
        int next = status_rank(event.status);
        // A job recorded as purged that a worker had taken before the purge still runs; its
        // events tell the truth.
        bool purged = job.status == JobStatus::failed && job.error == kPurgedReason;
        if (!purged &&
            (next < current || (next == current && event.status != JobStatus::processing)))
            return false;
        if (purged) job.error.clear();

        job.status = event.status;
        job.redelivered = job.redelivered || event.redelivered;
        job.updated_at = Clock::now();
        if (event.width > 0) job.width = event.width;
        if (event.height > 0) job.height = event.height;
        if (job.finished()) {
            job.error = event.error;
            job.timings = event.timings;
            job.total_seconds =
                std::chrono::duration<double>(job.updated_at - job.created_at).count();
        }
        updated = job;
    }
    if (updated.finished()) {
        metrics_.frontend_request_seconds(updated.message.op).Observe(updated.total_seconds);
        metrics_
            .frontend_processed_total(updated.message.op,
                                      std::string(worker::to_string(updated.status)))
            .Increment();
    }
    // Subscribers hear of the change after the metrics and before the record's fsync. The event
    // is acked after this returns, so a crash before that fsync applies the event again.
    notify(updated);
    if (updated.finished()) persist(updated);
    return true;
}

void JobTracker::fail_unpublished(const std::string& id, const std::string& reason) {
    JobRecord updated;
    {
        std::lock_guard lock(mutex_);
        auto found = jobs_.find(id);
        if (found == jobs_.end() || found->second.finished()) return;
        found->second.status = JobStatus::failed;
        found->second.error = reason;
        found->second.updated_at = Clock::now();
        updated = found->second;
    }
    persist(updated);
    notify(updated);
}

std::size_t JobTracker::fail_purged() {
    std::vector<JobRecord> updated;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, job] : jobs_) {
            if (job.status != JobStatus::queued) continue;
            job.status = JobStatus::failed;
            job.error = kPurgedReason;
            job.updated_at = Clock::now();
            updated.push_back(job);
        }
    }
    for (const auto& job : updated) {
        persist(job);
        notify(job);
    }
    return updated.size();
}

std::map<std::string, std::size_t> JobTracker::count_by_status() const {
    std::map<std::string, std::size_t> counts{
        {"queued", 0}, {"processing", 0}, {"done", 0}, {"failed", 0}};
    std::lock_guard lock(mutex_);
    for (const auto& [id, job] : jobs_) ++counts[std::string(worker::to_string(job.status))];
    return counts;
}

std::vector<JobRecord> JobTracker::recent(std::size_t limit,
                                          std::optional<worker::JobStatus> status) const {
    std::vector<JobRecord> jobs;
    std::lock_guard lock(mutex_);
    for (auto id = order_.rbegin(); id != order_.rend() && jobs.size() < limit; ++id) {
        auto found = jobs_.find(*id);
        if (found == jobs_.end()) continue;
        if (status && found->second.status != *status) continue;
        jobs.push_back(found->second);
    }
    return jobs;
}

std::optional<JobRecord> JobTracker::find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto found = jobs_.find(id);
    if (found == jobs_.end()) return std::nullopt;
    return found->second;
}

std::vector<JobRecord> JobTracker::batch(const std::string& batch_id) const {
    std::lock_guard lock(mutex_);
    std::vector<JobRecord> jobs;
    auto found = batches_.find(batch_id);
    if (found == batches_.end()) return jobs;
    for (const auto& id : found->second) jobs.push_back(jobs_.at(id));
    return jobs;
}

void JobTracker::persist(const JobRecord& job) {
    auto record = dump_json(storage_json(job));
    auto stored = store_.put_object(
        options_.bucket, record_key(job.message.id),
        {reinterpret_cast<const std::uint8_t*>(record.data()), record.size()}, json_put_options());
    if (!stored) {
        module_logger("http")->warn("job {}: storing its record failed: {}", job.message.id,
                                    stored.error().message);
    }
}

void JobTracker::notify(const JobRecord& job) {
    std::vector<Subscriber> subscribers;
    {
        std::lock_guard lock(subscribers_mutex_);
        for (const auto& [id, subscriber] : subscribers_) subscribers.push_back(subscriber);
    }
    for (const auto& subscriber : subscribers) subscriber(job);
}

std::uint64_t JobTracker::subscribe(Subscriber subscriber) {
    std::lock_guard lock(subscribers_mutex_);
    auto id = next_subscriber_++;
    subscribers_.emplace(id, std::move(subscriber));
    return id;
}

void JobTracker::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.erase(id);
}

}  // namespace imgbus::http
