// SPDX-License-Identifier: Apache-2.0
// Parsers for the values written in policies (IDs, ports, durations, path
// prefixes, endpoints, digests), shared by the checker and lowering.
//
// On bad input each parser returns nullopt or a reason instead of throwing.
// The checker turns the reason into a diagnostic, and lowering relies on
// values the checker already accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/decision_ir.h"

namespace hoody::sema {

/// Returns true when `text` is exactly 24 lowercase hex digits.
bool isValidId(std::string_view text);

/// Decodes a valid ID (see isValidId).
std::optional<ir::Id96> parseId(std::string_view text);

/// Formats an ID as 24 lowercase hex digits.
std::string formatId(const ir::Id96& id);

/// Parses a TCP/UDP port: decimal 1..65535 without sign or leading zeros.
std::optional<uint16_t> parsePort(std::string_view text);

/// Parses a duration: decimal digits followed by `s`, `m` or `h`, e.g.
/// `30s`, `5m`, `1h`. Returns seconds; nullopt when malformed or above
/// 2^32 - 1 seconds.
std::optional<uint32_t> parseDuration(std::string_view text);

/// Splits `ADDR:PORT` or `[IPV6]:PORT`. Returns nullopt when there is no
/// port or the brackets are unbalanced; the parts are not validated.
struct EndpointText {
  std::string address;
  std::string port;
};
std::optional<EndpointText> splitEndpoint(std::string_view text);

/// Checks a path prefix of a grant or alias. Returns the reason it is
/// rejected (for a diagnostic), or nullopt when it is valid. A valid prefix
/// starts with `/`, has no `.` or `..` segment (also when percent-encoded)
/// and no empty segment except a final one (a trailing slash). It has no `?`,
/// `#`, `;`, backslash, space or control character, and no percent escape
/// that the proxy rejects in request paths: invalid escapes, encoded `/`,
/// `\`, NUL, `;`, `?` or `#`, and escapes that are not valid UTF-8.
std::optional<std::string> pathPrefixProblem(std::string_view path);

/// Returns a valid prefix (see pathPrefixProblem) in the form the proxy
/// normalizes request paths to before deciding: percent-encoded unreserved
/// characters decoded, other escapes in uppercase hex, and bytes outside the
/// RFC 3986 path alphabet (such as UTF-8 text) percent-encoded. A trailing
/// slash is kept, because "/admin/" matches only paths below "/admin" while
/// "/admin" also matches "/admin" itself.
std::string normalizePathPrefix(std::string_view path);

/// Decodes exactly 64 hex digits (either case) into a SHA-256 digest.
std::optional<std::array<uint8_t, 32>> parseSha256Hex(std::string_view hex);

/// Resolves `path` against the directory of `policy_file`; an absolute path
/// is returned unchanged.
std::string resolveRelative(std::string_view policy_file, std::string_view path);

/// Returns the candidate closest to `name` by edit distance, or an empty
/// string when none is close enough to be a plausible typo.
std::string closestName(std::string_view name, const std::vector<std::string>& candidates);

/// Formats a "did you mean" help text, or an empty string.
std::string didYouMean(std::string_view name, const std::vector<std::string>& candidates);

/// Names of every service in IR order.
std::vector<std::string> serviceNames();

}  // namespace hoody::sema
