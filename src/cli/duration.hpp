// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <string>

#include "imgbus/result.hpp"

namespace imgbus::cli {

// The longest duration parse_duration() accepts: 100 years of 365 days (36500d).
inline constexpr std::chrono::seconds kMaxDuration{36'500LL * 86'400};

// Parses a whole number followed by a unit, s, m, h or d ("7d", "12h", "90s"); "0" alone is zero.
// Durations over kMaxDuration are refused. `flag` names the option in the error, which shows the
// accepted forms.
Result<std::chrono::seconds> parse_duration(const std::string& text, const std::string& flag);

}  // namespace imgbus::cli
