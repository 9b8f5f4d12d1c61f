// SPDX-License-Identifier: MIT
#include "upload.hpp"

#include <boost/beast/http/field.hpp>
#include <charconv>
#include <set>

#include "imgbus/imaging/stream.hpp"
#include "multipart.hpp"
#include "router.hpp"

namespace imgbus::http {
namespace {

constexpr std::size_t kMaxFieldBytes = 4096;
const std::set<std::string, std::less<>> kRawTypes = {"image/jpeg", "image/png",
                                                      "application/octet-stream"};

Error bad_parameter(std::string message) {
    return make_error(Errc::bad_parameter, std::move(message));
}

Result<void> read_multipart(const Request& request, std::string_view content_type, Upload& upload) {
    auto boundary = multipart_boundary(content_type);
    if (!boundary) return boundary.error();
    auto parts = parse_multipart(request.body(), *boundary);
    if (!parts) return parts.error();

    const Part* image = nullptr;
    for (const auto& part : *parts) {
        if (part.name == "image") {
            if (image == nullptr || image->name != "image") image = &part;
            continue;
        }
        if (part.has_filename) {
            if (image == nullptr) image = &part;
            continue;
        }
        if (part.body.size() > kMaxFieldBytes) {
            return bad_parameter("form field '" + part.name + "' is " +
                                 std::to_string(part.body.size()) + " bytes; the maximum is " +
                                 std::to_string(kMaxFieldBytes));
        }
        upload.fields[part.name] = std::string(part.body);
    }
    if (image == nullptr) {
        return make_error(Errc::empty_upload,
                          "multipart body has no part named 'image' and no file part; send the "
                          "image as the 'image' field");
    }
    upload.image = image->body;
    upload.filename = image->filename;
    return {};
}

Result<int> parse_int(const std::string& name, std::string_view text, int min, int max) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        return bad_parameter(name + " '" + std::string(text.substr(0, 40)) +
                             "' is not an integer; use a whole number from " + std::to_string(min) +
                             " to " + std::to_string(max));
    }
    if (value < min || value > max) {
        return bad_parameter(name + " " + std::to_string(value) + " is out of range; use " +
                             std::to_string(min) + " to " + std::to_string(max));
    }
    return value;
}

Result<std::vector<int>> parse_thread_list(std::string_view text, int max_threads) {
    std::vector<int> threads;
    while (true) {
        auto comma = text.find(',');
        auto item = text.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        auto value = parse_int("threads", item, 1, max_threads);
        if (!value) return value.error();
        if (std::find(threads.begin(), threads.end(), *value) != threads.end()) {
            return bad_parameter("threads lists " + std::to_string(*value) +
                                 " twice; give each thread count once and use runs to repeat");
        }
        threads.push_back(*value);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return threads;
}

// Fills op and steps from the op field and the loose parameter fields. A single step takes its
// parameters from both, and a name given in both is an error. Several steps take none from fields.
Result<void> resolve_operation(const std::string& op_text, JobParams& params,
                               const imaging::OperationRegistry& registry) {
    auto steps = imaging::parse_pipeline(op_text);
    if (!steps) return bad_parameter("op: " + steps.error().message);
    if (steps->size() == 1) {
        auto& step = steps->front();
        for (auto& [name, value] : params.op_params) {
            if (!step.params.emplace(name, value).second) {
                return bad_parameter("parameter '" + name +
                                     "' is given both in op and as a field; give it once");
            }
        }
        auto validated = registry.validate(step.op, step.params);
        if (!validated) return bad_parameter(validated.error().message);
        params.op = step.op;
        params.op_params = std::move(step.params);
        return {};
    }
    if (!params.op_params.empty()) {
        return bad_parameter("field '" + params.op_params.begin()->first +
                             "' is not a job parameter; with several steps in op, put each "
                             "parameter in its step, as in resize:width=800,sharpen:amount=1.5");
    }
    auto validated = registry.validate_pipeline(*steps);
    if (!validated) return bad_parameter(validated.error().message);
    params.op = "pipeline";
    params.steps = std::move(*steps);
    return {};
}

}  // namespace

Result<Upload> read_upload(const Request& request) {
    Upload upload;
    auto query = parse_query(request.target());
    if (!query) return query.error();
    upload.fields = std::move(*query);

    std::string_view content_type = request[boost::beast::http::field::content_type];
    auto media_type = content_type.substr(0, content_type.find(';'));
    while (!media_type.empty() && media_type.back() == ' ') media_type.remove_suffix(1);
    std::string lower(media_type);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

    if (lower == "multipart/form-data") {
        if (auto read = read_multipart(request, content_type, upload); !read) return read.error();
    } else if (lower.empty() || kRawTypes.contains(lower)) {
        upload.image = request.body();
    } else {
        return make_error(Errc::unsupported_media_type,
                          "Content-Type '" + std::string(content_type.substr(0, 80)) +
                              "' is not accepted; send multipart/form-data or the raw image as "
                              "image/jpeg, image/png or application/octet-stream");
    }
    if (upload.image.empty()) {
        return make_error(Errc::empty_upload,
                          "the uploaded image is empty; send a JPEG or PNG file");
    }
    return upload;
}

Result<JobParams> parse_job_params(const std::map<std::string, std::string>& fields,
                                   const JobLimits& limits,
                                   const imaging::OperationRegistry& registry) {
    JobParams params;
    std::string op_text = params.op;
    for (const auto& [name, value] : fields) {
        if (name == "op") {
            op_text = value;
        } else if (name == "threads") {
            auto threads = parse_thread_list(value, limits.max_threads_per_job);
            if (!threads) return threads.error();
            params.threads = std::move(*threads);
        } else if (name == "runs") {
            auto runs = parse_int("runs", value, 1, limits.max_runs);
            if (!runs) return runs.error();
            params.runs = *runs;
        } else if (name == "passes") {
            auto passes = parse_int("passes", value, 1, limits.max_passes);
            if (!passes) return passes.error();
            params.passes = *passes;
        } else if (name == "path") {
            if (auto path = imaging::parse_path_choice(value); !path) {
                return bad_parameter(path.error().message);
            }
            params.path = value;
        } else {
            params.op_params[name] = value;
        }
    }

    auto jobs = params.threads.size() * static_cast<std::size_t>(params.runs);
    if (jobs > static_cast<std::size_t>(limits.max_jobs_per_upload)) {
        return bad_parameter(std::to_string(params.threads.size()) + " thread counts x " +
                             std::to_string(params.runs) + " runs make " + std::to_string(jobs) +
                             " jobs; the maximum per upload is " +
                             std::to_string(limits.max_jobs_per_upload));
    }
    if (auto resolved = resolve_operation(op_text, params, registry); !resolved) {
        return resolved.error();
    }
    return params;
}

}  // namespace imgbus::http
