// SPDX-License-Identifier: MIT
// The JobTracker's links to the outside: the event queue it consumes and the stored records it
// reloads after a restart.
#include <boost/asio/post.hpp>

#include "batch_keys.hpp"
#include "imgbus/log.hpp"
#include "job_tracker.hpp"

namespace imgbus::http {

Result<std::vector<store::ObjectInfo>> list_records(store::ObjectStore& store,
                                                    const std::string& bucket) {
    constexpr std::size_t kListPageSize = 1000;
    std::vector<store::ObjectInfo> records;
    store::ListOptions options;
    options.prefix = "jobs/";  // record_key()
    options.max_keys = kListPageSize;
    for (;;) {
        auto page = store.list_objects(bucket, options);
        if (!page) return page.error();
        const bool more = page->truncated && !page->objects.empty();
        for (auto& object : page->objects) records.push_back(std::move(object));
        if (!more) break;
        options.start_after = records.back().key;
    }
    return records;
}

Result<std::size_t> JobTracker::recover() {
    auto log = module_logger("http");
    auto records = list_records(store_, options_.bucket);
    if (!records) return records.error();

    std::vector<JobRecord> unfinished;
    for (const auto& record : *records) {
        const auto& key = record.key;
        auto object = store_.get_object(options_.bucket, key);
        auto job = object
                       ? parse_storage_json(std::string(object->data.begin(), object->data.end()))
                       : Result<JobRecord>(object.error());
        if (!job) {
            // Shown as failed with the reason rather than 404; the file stays for inspection.
            log->error("job record {}: unreadable, job {} shown as failed: {}", key, record_id(key),
                       job.error().message);
            job = unreadable_record(key, job.error().message, record.last_modified);
        }
        if (!job->finished()) unfinished.push_back(*job);
        std::lock_guard lock(mutex_);
        insert_locked(std::move(*job));
    }

    std::size_t still_queued = 0;
    {
        std::lock_guard lock(unpublished_mutex_);
        for (const auto& job : unfinished) {
            // A batch whose marker exists reached the durable job queue, which the broker
            // replays on start; publishing it again would run each job twice.
            if (store_.head_object(options_.bucket, published_marker_key(job.message.batch))) {
                ++still_queued;
                continue;
            }
            unpublished_.push_back(job.message);
        }
    }
    const auto to_publish = unfinished.size() - still_queued;
    std::string reason;
    const auto waiting = publish_recovered(&reason);
    log->info(
        "recovered {} job records; {} unfinished jobs wait in the durable queue, {} were "
        "published again",
        records->size(), still_queued, to_publish - waiting);
    if (waiting > 0) {
        log->warn(
            "{} unfinished jobs could not be published again ({}); retrying every {} s "
            "until the broker takes them",
            waiting, reason, kRepublishInterval.count());
    }
    return to_publish - waiting;
}

std::size_t JobTracker::publish_recovered(std::string* reason) {
    std::lock_guard lock(unpublished_mutex_);
    std::vector<worker::JobMessage> failed;
    for (auto& job : unpublished_) {
        if (auto known = find(job.id); known && known->finished()) continue;
        broker::Message message;
        message.body = worker::to_json(job);
        message.message_id = job.id;
        auto sent = broker_.publish(options_.job_queue, std::move(message));
        if (!sent) {
            if (reason != nullptr && reason->empty()) *reason = sent.error().message;
            failed.push_back(std::move(job));
            continue;
        }
        metrics_.frontend_publish_total(job.op).Increment();
    }
    unpublished_ = std::move(failed);
    return unpublished_.size();
}

Result<void> JobTracker::start_consuming(boost::asio::any_io_executor executor) {
    std::lock_guard lock(consumer_mutex_);
    if (!consumer_tag_.empty()) return {};
    std::weak_ptr<JobTracker> weak = weak_from_this();
    broker::Broker* broker = &broker_;
    auto tag = broker_.consume(options_.event_queue, options_.event_prefetch,
                               [weak, broker, executor](broker::Delivery delivery) {
                                   // The broker calls this on a worker's thread; the table and the
                                   // store write of a finished job are handled on the frontend's
                                   // executor instead.
                                   boost::asio::post(
                                       executor, [weak, broker, delivery = std::move(delivery)] {
                                           if (auto self = weak.lock()) {
                                               self->on_delivery(delivery);
                                           } else {
                                               (void)broker->nack(delivery.delivery_tag, true);
                                           }
                                       });
                               });
    if (!tag) return tag.error();
    consumer_tag_ = *tag;
    return {};
}

void JobTracker::stop_consuming() {
    std::lock_guard lock(consumer_mutex_);
    if (consumer_tag_.empty()) return;
    if (auto cancelled = broker_.cancel(consumer_tag_); !cancelled) {
        module_logger("http")->warn("cancelling the event consumer {} failed: {}", consumer_tag_,
                                    cancelled.error().message);
    }
    consumer_tag_.clear();
}

void JobTracker::on_delivery(const broker::Delivery& delivery) {
    auto log = module_logger("http");
    auto event = worker::parse_job_event(delivery.message.body);
    if (!event) {
        log->warn("event {} dropped: {}", delivery.delivery_tag, event.error().message);
    } else if (apply(*event)) {
        log->debug("job {}: {}", event->id, worker::to_string(event->status));
    } else {
        log->debug("job {}: stale or unknown {} event ignored", event->id,
                   worker::to_string(event->status));
    }
    // Acked in every case: an event that cannot be parsed would fail again if requeued.
    if (auto acked = broker_.ack(delivery.delivery_tag); !acked) {
        log->warn("event {}: ack failed: {}", delivery.delivery_tag, acked.error().message);
    }
}

}  // namespace imgbus::http
