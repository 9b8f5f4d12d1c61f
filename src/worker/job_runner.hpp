// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "imgbus/worker/worker_pool.hpp"

namespace imgbus::worker::detail {

// A finished job: the final event and, when it failed, the failing stage as a
// grayscale_failures_total reason ("operation", "fetch", "decode", "kernel", "encode", "store" or
// "internal").
struct JobOutcome {
    JobEvent event;
    std::string failure_reason;
    // The op metrics label: the job's operation or "pipeline"; empty when the operation is unknown.
    std::string op_label;
    // The store could not be reached or failed on its side (store::Errc::io_error while fetching
    // the input or storing the output), so another attempt may succeed.
    bool retryable = false;
};

// Runs the stages of process_job() and reports which one failed. Never throws.
JobOutcome run_job(const JobMessage& job, store::ObjectStore& store, const WorkerOptions& options,
                   metrics::Metrics* metrics);

}  // namespace imgbus::worker::detail
