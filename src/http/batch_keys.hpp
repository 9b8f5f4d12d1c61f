// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace imgbus::http {

// Key of the empty object that marks a batch whose jobs all reached the job queue.
inline std::string published_marker_key(const std::string& batch_id) {
    return "uploads/" + batch_id + "/published";
}

}  // namespace imgbus::http
