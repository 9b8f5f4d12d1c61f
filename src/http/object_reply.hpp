// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

#include "imgbus/store/object_store.hpp"
#include "imgbus/worker/job.hpp"
#include "response.hpp"

namespace imgbus::http {

// Answers a GET or HEAD of a stored object (a job's result, a batch's input) with its ETag:
// 304 when If-None-Match names that ETag, 206 with Content-Range for one satisfiable Range,
// 416 for an unsatisfiable one, else 200 with the whole object. The session streams the body
// from the store, so the object is never loaded whole. `fallback_type` is the Content-Type when
// the object has none.
Reply object_reply(store::ObjectStore& store, const Request& request, const worker::ObjectRef& ref,
                   std::string_view fallback_type);

}  // namespace imgbus::http
