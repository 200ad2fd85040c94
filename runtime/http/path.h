// SPDX-License-Identifier: Apache-2.0
// Request path normalization: the one path a request is decided on and
// forwarded with.
//
// The rules close the known ways of making the decision and the upstream see
// different paths: percent-encoded `/`, `\`, NUL, `;`, `?` and `#` are
// rejected, as are invalid escapes, overlong or otherwise invalid UTF-8 in
// escapes, raw bytes outside the RFC 3986 path alphabet, and path parameters
// (`;`, which servlet containers strip before routing). Percent-encoded
// unreserved characters are decoded exactly once, so `%2e` becomes `.` but
// `%252e` stays `%252e`. Dot segments are then removed (RFC 3986 section
// 5.2.4) and empty segments collapsed.
#pragma once

#include <string>
#include <string_view>

#include "runtime/abi/result.h"

namespace hoody::http {

/// Normalizes an absolute path (no query). Error codes: "invalid-path" (not
/// absolute, or a byte outside the path alphabet), "invalid-escape",
/// "encoded-reserved" (an encoded `/ \ NUL ; ? #`), "invalid-utf8" (overlong,
/// surrogate or malformed UTF-8 in escapes), "path-parameter" (a raw `;`).
Result<std::string> normalizePath(std::string_view path);

/// A request target split into the normalized path and the raw query.
struct NormalizedTarget {
  std::string path;   ///< Normalized; what the decision sees.
  std::string query;  ///< After `?`, byte for byte; empty when absent.
  bool has_query = false;

  /// The target sent upstream: the normalized path plus the original query.
  std::string forwardTarget() const { return has_query ? path + "?" + query : path; }
};

/// Splits `target` at the first `?` and normalizes the path. The query may
/// hold visible ASCII except `#`. Error codes: those of normalizePath and
/// "invalid-query".
Result<NormalizedTarget> normalizeTarget(std::string_view target);

}  // namespace hoody::http
