// SPDX-License-Identifier: MIT
#include "serve_roles.hpp"

#include <system_error>

#include "imgbus/store/object_store.hpp"

namespace imgbus::cli {
namespace {

Error reject(const std::string& message) {
    return Error{std::make_error_code(std::errc::invalid_argument), message};
}

// Names the flag that turned the AMQP listener off.
std::string amqp_off_flag(const ServeRoles& roles) {
    return roles.external_broker ? "--broker (no AMQP listener)" : "--amqp off";
}

// An embedded broker without its AMQP listener is reachable only inside this process, so the
// frontend that publishes jobs and the workers that consume them must both run here.
Result<void> check_embedded_broker(const ServeRoles& roles) {
    if (roles.external_broker || roles.amqp_listener) return {};
    if (roles.frontend && roles.workers == 0) {
        return reject(
            "--amqp off with the embedded broker and --workers 0 leaves the jobs without a "
            "consumer; give --workers N, keep --amqp HOST:PORT for imgbus worker processes, or "
            "use --broker URL");
    }
    if (!roles.frontend && roles.workers > 0) {
        return reject(
            "--http off and --amqp off with the embedded broker leave the workers without jobs, "
            "as no frontend can reach the broker; keep --amqp HOST:PORT, or use --broker URL");
    }
    return {};
}

// The same for an embedded store without its S3 listener: uploads and results stay inside.
Result<void> check_embedded_store(const ServeRoles& roles) {
    if (roles.external_store || roles.s3_listener) return {};
    if (roles.frontend && roles.workers == 0) {
        return reject(
            "--s3 off with the embedded store and --workers 0 leaves workers elsewhere unable to "
            "read the uploads; give --workers N, keep --s3 HOST:PORT, or use --store URL");
    }
    if (!roles.frontend && roles.workers > 0) {
        return reject(
            "--http off and --s3 off with the embedded store leave the workers without images, "
            "as no frontend can reach the store; keep --s3 HOST:PORT, or use --store URL");
    }
    return {};
}

}  // namespace

bool is_off(const std::string& value) { return value == kOff; }

Result<void> check_roles(const ServeRoles& roles) {
    if (!roles.frontend && !roles.s3_listener && !roles.amqp_listener && roles.workers == 0) {
        return reject("--http off, --s3 off, " + amqp_off_flag(roles) +
                      " and --workers 0 leave this imgbus serve nothing to run; keep one of "
                      "the listeners or give --workers N");
    }
    if (auto broker = check_embedded_broker(roles); !broker) return broker;
    return check_embedded_store(roles);
}

Result<void> check_bucket_flag(const std::string& bucket) {
    if (auto valid = store::validate_bucket_name(bucket); !valid) {
        return reject("--bucket: " + valid.error().message);
    }
    return {};
}

}  // namespace imgbus::cli
