// SPDX-License-Identifier: MIT
// The JobTracker's links to the outside: the event queue it consumes and the stored records it
// reloads after a restart.
#include <boost/asio/post.hpp>

#include "batch_keys.hpp"
#include "imgbus/log.hpp"
#include "job_tracker.hpp"

namespace imgbus::http {
namespace {

constexpr std::size_t kListPageSize = 1000;

Result<std::vector<std::string>> list_record_keys(store::ObjectStore& store,
                                                  const std::string& bucket) {
    std::vector<std::string> keys;
    store::ListOptions options;
    options.prefix = "jobs/";
    options.max_keys = kListPageSize;
    for (;;) {
        auto page = store.list_objects(bucket, options);
        if (!page) return page.error();
        for (const auto& object : page->objects) keys.push_back(object.key);
        if (!page->truncated || page->objects.empty()) break;
        options.start_after = page->objects.back().key;
    }
    return keys;
}

}  // namespace

Result<std::size_t> JobTracker::recover() {
    auto log = module_logger("http");
    auto keys = list_record_keys(store_, options_.bucket);
    if (!keys) return keys.error();

    std::vector<JobRecord> unfinished;
    for (const auto& key : *keys) {
        auto object = store_.get_object(options_.bucket, key);
        if (!object) {
            log->warn("job record {}: reading it failed: {}", key, object.error().message);
            continue;
        }
        auto job = parse_storage_json(std::string(object->data.begin(), object->data.end()));
        if (!job) {
            log->warn("job record {}: skipped: {}", key, job.error().message);
            continue;
        }
        if (!job->finished()) unfinished.push_back(*job);
        std::lock_guard lock(mutex_);
        insert_locked(std::move(*job));
    }

    std::size_t published = 0;
    std::size_t still_queued = 0;
    for (const auto& job : unfinished) {
        // A batch whose marker exists reached the durable job queue, which the broker replays
        // on start; publishing it again would run each job twice.
        if (store_.head_object(options_.bucket, published_marker_key(job.message.batch))) {
            ++still_queued;
            continue;
        }
        broker::Message message;
        message.body = worker::to_json(job.message);
        message.message_id = job.message.id;
        auto sent = broker_.publish(options_.job_queue, std::move(message));
        if (!sent) {
            log->error("job {}: publishing it again after the restart failed: {}", job.message.id,
                       sent.error().message);
            continue;
        }
        metrics_.frontend_publish_total(job.message.op).Increment();
        ++published;
    }
    log->info(
        "recovered {} job records; {} unfinished jobs wait in the durable queue, {} were "
        "published again",
        keys->size(), still_queued, published);
    return published;
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
