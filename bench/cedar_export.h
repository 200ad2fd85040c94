// SPDX-License-Identifier: Apache-2.0
// Writes a benchmark case (policy templates, containers, requests and the
// interpreter's decisions) as JSON for the Cedar peer in bench/cedar/.
#pragma once

#include <string>

#include "bench/bench_policy.h"
#include "runtime/policy/interpreter.h"

namespace hoody::bench {

/// Requests written per case. Cedar takes microseconds to milliseconds per
/// request, so it needs fewer than the C++ engines.
inline constexpr size_t kCedarRequests = 4096;

/// Writes `<dir>/<label with '/' as '-'>.json`. Returns an error message, or
/// an empty string on success. Fails for groups Cedar's translation does not
/// cover here: method or path narrowing, IPv6 ranges, passwords and JWTs.
std::string exportCedarCase(const std::string& dir, const std::string& label,
                            const BenchPolicy& policy, const Requests& requests,
                            const policy::Interpreter& interpreter);

}  // namespace hoody::bench
