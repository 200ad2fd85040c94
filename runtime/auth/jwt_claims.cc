// SPDX-License-Identifier: Apache-2.0
// JWT claim checks: exp, nbf, iss, aud, the policy's claim rules and the
// realm claim (RFC 7519 section 4.1).
//
// Claim rules are checked in addition to the built-in checks, never in their
// place: a rule on `exp` adds a condition and leaves the expiry check intact.
#include "runtime/auth/internal/jwt_stages.h"

#include <cmath>
#include <optional>
#include <string>

#include "runtime/auth/internal/sodium_util.h"
#include "runtime/auth/internal/strict_json.h"

namespace hoody::auth::internal {
namespace {

using Json = nlohmann::json;

/// Maximum magnitude of a NumericDate: 2^53, the last integer a double
/// represents exactly. Larger values (1e300, 2^64) are malformed, not "far future".
constexpr double kMaxNumericDate = 9007199254740992.0;

/// Reads a NumericDate: a JSON integer or finite float within kMaxNumericDate.
std::optional<double> numericDate(const Json& value) {
  double seconds = 0;
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    seconds = static_cast<double>(value.get<int64_t>());
  } else if (value.is_number_unsigned()) {
    uint64_t raw = value.get<uint64_t>();
    if (raw > static_cast<uint64_t>(kMaxNumericDate)) {
      return std::nullopt;
    }
    seconds = static_cast<double>(raw);
  } else if (value.is_number_float()) {
    seconds = value.get<double>();
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(seconds) || std::fabs(seconds) > kMaxNumericDate) {
    return std::nullopt;
  }
  return seconds;
}

JwtFailure checkTimes(const ir::JwtSpec& spec, const Json& claims, int64_t now) {
  const double current = static_cast<double>(now);
  const double leeway = static_cast<double>(spec.leeway_seconds);

  auto exp = claims.find("exp");
  if (exp == claims.end()) {
    if (spec.require_exp) {
      return JwtFailure::MissingExp;
    }
  } else {
    auto expires = numericDate(*exp);
    if (!expires) {
      return JwtFailure::Malformed;
    }
    if (current > *expires + leeway) {
      return JwtFailure::Expired;
    }
  }

  auto nbf = claims.find("nbf");
  if (nbf != claims.end()) {
    auto not_before = numericDate(*nbf);
    if (!not_before) {
      return JwtFailure::Malformed;
    }
    if (current + leeway < *not_before) {
      return JwtFailure::NotYetValid;
    }
  }
  return JwtFailure::None;
}

/// Passes when `aud` (a string or an array of strings) names any configured
/// audience exactly. Any other shape fails, including an empty string, an
/// empty array and an array holding a non-string.
bool audienceMatches(const Json& aud, const std::vector<std::string>& audiences) {
  auto configured = [&](const std::string& value) {
    for (const std::string& audience : audiences) {
      if (!value.empty() && value == audience) {
        return true;
      }
    }
    return false;
  };
  if (aud.is_string()) {
    return configured(aud.get_ref<const std::string&>());
  }
  if (!aud.is_array() || aud.empty()) {
    return false;
  }
  bool any = false;
  for (const Json& element : aud) {
    if (!element.is_string()) {
      return false;
    }
    any = any || configured(element.get_ref<const std::string&>());
  }
  return any;
}

/// Returns the text a scalar claim is compared as: strings as themselves,
/// integers in decimal, floats in the shortest form that reads back the same
/// value, booleans as `true`/`false`. Nullopt for null, arrays and objects.
std::optional<std::string> scalarText(const Json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number_unsigned()) {
    return std::to_string(value.get<uint64_t>());
  }
  if (value.is_number_integer()) {
    return std::to_string(value.get<int64_t>());
  }
  if (value.is_number_float() || value.is_boolean()) {
    return value.dump();
  }
  return std::nullopt;
}

/// Passes when an array claim contains the string `value`, or a string claim
/// lists it among its space-separated words (the OAuth `scope` form).
bool claimContains(const Json& claim, const std::string& value) {
  if (claim.is_array()) {
    for (const Json& element : claim) {
      if (element.is_string() && element.get_ref<const std::string&>() == value) {
        return true;
      }
    }
    return false;
  }
  if (!claim.is_string()) {
    return false;
  }
  std::string_view words = claim.get_ref<const std::string&>();
  while (!words.empty()) {
    size_t space = words.find(' ');
    if (words.substr(0, space) == value) {
      return true;
    }
    if (space == std::string_view::npos) {
      break;
    }
    words.remove_prefix(space + 1);
  }
  return false;
}

bool ruleHolds(const ir::ClaimRule& rule, const Json& claims) {
  auto claim = claims.find(rule.claim);
  // A null claim counts as absent for every rule.
  if (claim == claims.end() || claim->is_null()) {
    return false;
  }
  switch (rule.op) {
    case ir::ClaimOp::Exists:
      return true;
    case ir::ClaimOp::Equals: {
      auto text = scalarText(*claim);
      return text && *text == rule.value;
    }
    case ir::ClaimOp::Contains:
      return !rule.value.empty() && claimContains(*claim, rule.value);
  }
  return false;
}

bool stringClaimEquals(const Json& claims, const std::string& name, std::string_view expected) {
  auto claim = claims.find(name);
  return claim != claims.end() && claim->is_string() &&
         claim->get_ref<const std::string&>() == expected;
}

}  // namespace

JwtFailure checkClaims(const ir::JwtSpec& spec, std::string_view realm, std::string_view payload,
                       int64_t now) {
  auto decoded = decodeBase64Url(payload);
  if (!decoded) {
    return JwtFailure::Malformed;
  }
  auto claims = parseJsonObject(*decoded);
  if (!claims) {
    return JwtFailure::Malformed;
  }

  if (JwtFailure f = checkTimes(spec, *claims, now); f != JwtFailure::None) {
    return f;
  }
  if (!spec.issuer.empty() && !stringClaimEquals(*claims, "iss", spec.issuer)) {
    return JwtFailure::BadIssuer;
  }
  if (!spec.audiences.empty()) {
    auto aud = claims->find("aud");
    if (aud == claims->end() || !audienceMatches(*aud, spec.audiences)) {
      return JwtFailure::BadAudience;
    }
  }
  for (const ir::ClaimRule& rule : spec.claims) {
    if (!ruleHolds(rule, *claims)) {
      return JwtFailure::ClaimMismatch;
    }
  }
  if (!spec.realm_claim.empty() && !stringClaimEquals(*claims, spec.realm_claim, realm)) {
    return JwtFailure::BadRealm;
  }
  return JwtFailure::None;
}

}  // namespace hoody::auth::internal
