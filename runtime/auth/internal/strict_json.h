// SPDX-License-Identifier: Apache-2.0
// Strict JSON parsing for untrusted token parts and key files.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hoody::auth::internal {

/// Maximum nesting depth of a parsed document.
inline constexpr int kMaxJsonDepth = 32;

/// Parses `text` as a single JSON object. Returns nullopt for invalid JSON or
/// UTF-8, a top-level value that is not an object, nesting deeper than
/// kMaxJsonDepth, or a member name repeated within one object. Parsers
/// disagree on which duplicate wins, so such a token could mean different
/// things to the proxy and to an upstream. Never throws.
std::optional<nlohmann::json> parseJsonObject(std::string_view text);

}  // namespace hoody::auth::internal
