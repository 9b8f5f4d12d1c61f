// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "imgbus/imaging/operation.hpp"
#include "imgbus/result.hpp"
#include "response.hpp"

namespace imgbus::http {

// The image and the parameters of POST /api/jobs. image points into the request body.
struct Upload {
    std::string_view image;
    std::string filename;
    std::map<std::string, std::string> fields;  // query parameters, overridden by form fields
};

// Reads a multipart/form-data or raw-body upload. Fails with unsupported_media_type,
// empty_upload, or a multipart error.
Result<Upload> read_upload(const Request& request);

struct JobLimits {
    int max_threads_per_job = 64;
    int max_runs = 20;
    int max_passes = 100;
    int max_jobs_per_upload = 256;
};

// The validated parameters of an upload.
struct JobParams {
    std::string op = "grayscale";  // "pipeline" when steps holds several steps
    std::vector<imaging::PipelineStep> steps;
    std::vector<int> threads{1};
    int runs = 1;
    int passes = 1;
    std::string path = "auto";  // imaging::PathChoice: auto, stream or whole-image
    std::map<std::string, std::string> op_params;  // raw values, checked by the registry
};

// Checks op, threads, runs, passes and the operation's own parameters; fails with bad_parameter
// and a message naming the value and the allowed range. op is one operation name or the
// pipeline syntax of imaging::parse_pipeline ("resize:width=800,sharpen:amount=1.5,grayscale");
// further fields are parameters of a single operation, and every step is validated here.
Result<JobParams> parse_job_params(const std::map<std::string, std::string>& fields,
                                   const JobLimits& limits,
                                   const imaging::OperationRegistry& registry);

}  // namespace imgbus::http
