// SPDX-License-Identifier: MIT
// POST /api/jobs and the job, batch and result routes.
#include <boost/beast/http/field.hpp>
#include <charconv>
#include <future>
#include <random>

#include "batch_keys.hpp"
#include "context.hpp"
#include "imgbus/imaging/codec.hpp"
#include "imgbus/log.hpp"
#include "object_reply.hpp"
#include "upload.hpp"

namespace imgbus::http {
namespace {

namespace beast_http = boost::beast::http;
using Clock = std::chrono::system_clock;

// 128 random bits as 32 hex digits.
std::string make_id() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string id;
    for (int word = 0; word < 2; ++word) {
        auto bits = generator();
        for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kDigits[bits & 0xf]);
    }
    return id;
}

// The upload's ETag is computed off the request path, because only a later read of the input
// (the UI's original image, an S3 client) needs it.
store::PutOptions upload_put_options(const std::string& content_type) {
    store::PutOptions options;
    options.content_type = content_type;
    options.defer_etag = true;
    return options;
}

std::optional<std::size_t> parse_count(const std::string& text) {
    std::size_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool is_id(std::string_view text) {
    return text.size() == 32 &&
           text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Response upload_error_response(const Error& error) {
    if (error.code == Errc::unsupported_media_type) {
        return error_response(Status::unsupported_media_type, "unsupported_media_type",
                              error.message);
    }
    return error_response(Status::bad_request, "bad_request", error.message);
}

Response probe_error_response(const Error& error, const imaging::DecodeLimits& limits) {
    using imaging::Errc;
    auto code = static_cast<Errc>(error.code.value());
    if (error.code.category() != imaging::imaging_category()) code = Errc::corrupt;
    switch (code) {
        case Errc::empty_input:
            return error_response(Status::bad_request, "bad_request", error.message);
        case Errc::unknown_format:
            return error_response(Status::unsupported_media_type, "unsupported_media_type",
                                  error.message + "; upload a JPEG or PNG image");
        case Errc::too_large:
            return error_response(Status::payload_too_large, "payload_too_large",
                                  error.message + " (limits: " + std::to_string(limits.max_pixels) +
                                      " pixels, " + std::to_string(limits.max_dimension) +
                                      " pixels per side)");
        default:
            return error_response(Status::unprocessable_entity, "invalid_image", error.message);
    }
}

struct Batch {
    std::string id;
    InputInfo input;
    std::vector<JobRecord> jobs;
};

Batch plan_batch(const JobParams& params, const InputInfo& input, const std::string& bucket,
                 std::string_view extension) {
    Batch batch{make_id(), input, {}};
    batch.input.object = {bucket, "uploads/" + batch.id + "/input." + std::string(extension)};
    auto now = Clock::now();
    for (int run = 1; run <= params.runs; ++run) {
        for (int threads : params.threads) {
            JobRecord job;
            auto& message = job.message;
            message.id = make_id();
            message.batch = batch.id;
            message.op = params.op;
            message.params = params.op_params;
            for (const auto& step : params.steps) message.steps.push_back({step.op, step.params});
            message.threads = threads;
            message.passes = params.passes;
            message.path = params.path;
            message.run = run;
            message.input = batch.input.object;
            message.output = {bucket, "processed/" + message.id + "." + std::string(extension)};
            message.submitted_at = now;
            job.input = batch.input;
            job.created_at = job.updated_at = now;
            batch.jobs.push_back(std::move(job));
        }
    }
    return batch;
}

// 503 unless the job queue can take `count` more messages.
std::optional<Response> check_queue_room(FrontendContext& context, std::size_t count) {
    auto retry = static_cast<int>(context.options.retry_after.count());
    if (context.intake_paused) {
        context.metrics.frontend_rejected_total("intake_paused").Increment();
        return unavailable_response("intake_paused",
                                    "an operator paused uploads (imgbus admin restart, or POST "
                                    "/api/admin/intake?paused=true); retry after " +
                                        std::to_string(retry) + " s",
                                    retry);
    }
    auto stats = context.broker.queue_stats(context.options.job_queue);
    if (!stats) {
        context.metrics.frontend_rejected_total("broker_unavailable").Increment();
        return unavailable_response(
            "unavailable",
            "the job queue is unavailable (" + stats.error().message + "); retry later", retry);
    }
    auto limit = stats->max_length_messages;
    if (limit != 0 && stats->messages_ready + count > limit) {
        context.metrics.frontend_rejected_total("queue_full").Increment();
        return unavailable_response("queue_full",
                                    "the job queue holds " + std::to_string(stats->messages_ready) +
                                        " of " + std::to_string(limit) +
                                        " messages and cannot take " + std::to_string(count) +
                                        " more; retry after " + std::to_string(retry) + " s",
                                    retry);
    }
    return std::nullopt;
}

// Records that every job of the batch reached the durable job queue, so that recovery after a
// crash does not publish them a second time. Without the marker, recovery publishes the batch's
// unfinished jobs again, which at worst runs a job twice into the same output key. The marker is
// therefore written without fsync, because a crash that loses it costs at most that second run.
void mark_batch_published(FrontendContext& context, const Batch& batch) {
    const auto key = published_marker_key(batch.id);
    store::PutOptions options;
    options.sync = false;
    if (auto marked = context.store.put_object(batch.input.object.bucket, key, {}, options);
        !marked) {
        module_logger("http")->warn("batch {}: writing {} failed: {}", batch.id, key,
                                    marked.error().message);
    }
}

// Publishes every job. On the first failure the rest are marked failed and a 503 is returned.
std::optional<Response> publish_batch(FrontendContext& context, const Batch& batch) {
    for (std::size_t i = 0; i < batch.jobs.size(); ++i) {
        const auto& job = batch.jobs[i].message;
        broker::Message message;
        message.body = worker::to_json(job);
        message.message_id = job.id;
        auto sent = context.broker.publish(context.options.job_queue, std::move(message));
        if (sent) {
            context.metrics.frontend_publish_total(job.op).Increment();
            continue;
        }
        bool full = sent.error().code == broker::Errc::queue_full;
        context.metrics.frontend_rejected_total(full ? "queue_full" : "broker_unavailable")
            .Increment();
        for (std::size_t j = i; j < batch.jobs.size(); ++j) {
            context.tracker->fail_unpublished(batch.jobs[j].message.id,
                                              "not queued: " + sent.error().message);
        }
        module_logger("http")->warn("batch {}: {} of {} jobs published; publishing failed: {}",
                                    batch.id, i, batch.jobs.size(), sent.error().message);
        return unavailable_response(full ? "queue_full" : "unavailable",
                                    "only " + std::to_string(i) + " of " +
                                        std::to_string(batch.jobs.size()) +
                                        " jobs were queued: " + sent.error().message,
                                    static_cast<int>(context.options.retry_after.count()));
    }
    return std::nullopt;
}

Response accepted_response(const Batch& batch, const JobParams& params) {
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& job : batch.jobs) {
        jobs.push_back({{"id", job.message.id},
                        {"threads", job.message.threads},
                        {"run", job.message.run},
                        {"status", "queued"},
                        {"url", "/api/jobs/" + job.message.id}});
    }
    nlohmann::json body = {{"batch", batch.id},
                           {"op", params.op},
                           {"input", input_json(batch.input)},
                           {"jobs", std::move(jobs)}};
    if (!params.steps.empty()) body["pipeline"] = imaging::format_pipeline(params.steps);
    auto response = json_response(Status::accepted, std::move(body));
    response.set(beast_http::field::location, "/api/batches/" + batch.id);
    return response;
}

Response post_jobs(FrontendContext& context, const Request& request) {
    auto upload = read_upload(request);
    if (!upload) return upload_error_response(upload.error());
    if (upload->image.size() > context.options.max_upload_bytes) {
        return error_response(Status::payload_too_large, "payload_too_large",
                              "the image is " + std::to_string(upload->image.size()) +
                                  " bytes; the upload limit is " +
                                  std::to_string(context.options.max_upload_bytes) + " bytes");
    }
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(upload->image.data()),
                           upload->image.size());
    auto info = imaging::probe(bytes, context.options.decode_limits);
    if (!info) return probe_error_response(info.error(), context.options.decode_limits);

    const auto& options = context.options;
    JobLimits limits{options.max_threads_per_job, options.max_runs, options.max_passes,
                     options.max_jobs_per_upload};
    auto params = parse_job_params(upload->fields, limits, imaging::OperationRegistry::global());
    if (!params) return upload_error_response(params.error());

    InputInfo input{std::string(imaging::format_name(info->format)),
                    info->width,
                    info->height,
                    bytes.size(),
                    upload->filename,
                    std::string(imaging::format_mime_type(info->format)),
                    {}};
    auto batch =
        plan_batch(*params, input, options.bucket, imaging::format_extension(info->format));
    if (auto full = check_queue_room(context, batch.jobs.size())) return *full;

    // The upload and the job records are written at the same time, so that their fsyncs can share
    // a journal commit instead of waiting one after the other. Both are on disk before the publish.
    auto upload_stored = std::async(std::launch::async, [&context, &batch, bytes, &input] {
        return context.store.put_object(batch.input.object.bucket, batch.input.object.key, bytes,
                                        upload_put_options(input.content_type));
    });
    std::optional<Error> record_error;
    std::size_t recorded = 0;
    for (const auto& job : batch.jobs) {
        auto added = context.tracker->add(job);
        if (!added) {
            record_error = added.error();
            break;
        }
        ++recorded;
    }
    auto stored = upload_stored.get();
    if (!stored) {
        // The recorded jobs cannot run without the upload, so they fail and recovery skips them.
        for (std::size_t i = 0; i < recorded; ++i) {
            context.tracker->fail_unpublished(
                batch.jobs[i].message.id,
                "not queued: storing the upload failed: " + stored.error().message);
        }
        return store_error_response(stored.error(), "storing the upload");
    }
    if (record_error) return store_error_response(*record_error, "storing the job record");
    if (auto failed = publish_batch(context, batch)) return *failed;
    mark_batch_published(context, batch);
    module_logger("http")->info("batch {}: {} {}x{} {} jobs queued ({} op)", batch.id, input.format,
                                input.width, input.height, batch.jobs.size(), params->op);
    return accepted_response(batch, *params);
}

Response unknown_job(const std::string& id) {
    return error_response(
        Status::not_found, "not_found",
        "job '" + id.substr(0, 64) + "' does not exist; job ids come from POST /api/jobs");
}

Response get_job(FrontendContext& context, const PathParams& params) {
    auto job = is_id(params.at("id")) ? context.tracker->find(params.at("id")) : std::nullopt;
    if (!job) return unknown_job(params.at("id"));
    return json_response(Status::ok, job_json(*job));
}

// GET /api/jobs?limit=N&status=S: the latest jobs, newest first.
Response list_jobs(FrontendContext& context, const Request& request) {
    constexpr std::size_t kDefaultLimit = 100;
    constexpr std::size_t kMaxLimit = 1000;
    auto query = parse_query(request.target());
    if (!query) return error_response(Status::bad_request, "bad_request", query.error().message);
    std::size_t limit = kDefaultLimit;
    if (auto found = query->find("limit"); found != query->end()) {
        auto parsed = parse_count(found->second);
        if (!parsed || *parsed < 1 || *parsed > kMaxLimit) {
            return error_response(Status::bad_request, "bad_request",
                                  "limit = '" + found->second.substr(0, 32) +
                                      "' is not a whole number from 1 to " +
                                      std::to_string(kMaxLimit));
        }
        limit = *parsed;
    }
    std::optional<worker::JobStatus> status;
    if (auto found = query->find("status"); found != query->end()) {
        status = worker::parse_job_status(found->second);
        if (!status) {
            return error_response(Status::bad_request, "bad_request",
                                  "status = '" + found->second.substr(0, 32) +
                                      "' is not one of queued, processing, done, failed");
        }
    }
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& job : context.tracker->recent(limit, status)) jobs.push_back(job_json(job));
    return json_response(Status::ok, {{"count", jobs.size()}, {"jobs", std::move(jobs)}});
}

Reply get_result(FrontendContext& context, const Request& request, const PathParams& params) {
    auto job = is_id(params.at("id")) ? context.tracker->find(params.at("id")) : std::nullopt;
    if (!job) return unknown_job(params.at("id"));
    if (job->status != worker::JobStatus::done) {
        return error_response(Status::conflict, "not_done",
                              "job " + job->message.id + " is " +
                                  std::string(worker::to_string(job->status)) +
                                  "; its result exists once the status is done");
    }
    return object_reply(context.store, request, job->message.output, job->input.content_type);
}

Reply get_batch(FrontendContext& context, const Request& request, const PathParams& params,
                bool input_only) {
    const auto& id = params.at("id");
    auto jobs = is_id(id) ? context.tracker->batch(id) : std::vector<JobRecord>{};
    if (jobs.empty()) {
        return error_response(
            Status::not_found, "not_found",
            "batch '" + id.substr(0, 64) + "' does not exist; batch ids come from POST /api/jobs");
    }
    const auto& input = jobs.front().input;
    if (input_only) return object_reply(context.store, request, input.object, input.content_type);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& job : jobs) list.push_back(job_json(job));
    return json_response(Status::ok, {{"batch", id},
                                      {"op", jobs.front().message.op},
                                      {"input", input_json(input)},
                                      {"jobs", std::move(list)}});
}

}  // namespace

Response store_error_response(const Error& error, std::string_view what) {
    if (error.code == store::Errc::no_such_key) {
        return error_response(Status::not_found, "not_found",
                              std::string(what) + " failed: the object no longer exists");
    }
    module_logger("http")->error("{} failed: {}", what, error.message);
    return error_response(Status::service_unavailable, "unavailable",
                          std::string(what) + " failed: " + error.message + "; retry later");
}

void add_jobs_routes(Router& router, FrontendContext& context) {
    using beast_http::verb;
    router.add(verb::post, "/api/jobs", [&context](const Request& request, const PathParams&) {
        return post_jobs(context, request);
    });
    router.add(verb::get, "/api/jobs", [&context](const Request& request, const PathParams&) {
        return list_jobs(context, request);
    });
    router.add(verb::get, "/api/jobs/{id}", [&context](const Request&, const PathParams& params) {
        return get_job(context, params);
    });
    router.add(verb::get, "/api/jobs/{id}/result",
               [&context](const Request& request, const PathParams& params) {
                   return get_result(context, request, params);
               });
    router.add(verb::get, "/api/batches/{id}",
               [&context](const Request& request, const PathParams& params) {
                   return get_batch(context, request, params, false);
               });
    router.add(verb::get, "/api/batches/{id}/input",
               [&context](const Request& request, const PathParams& params) {
                   return get_batch(context, request, params, true);
               });
}

}  // namespace imgbus::http
