// SPDX-License-Identifier: Apache-2.0
// JWT verification: compact JWS parsing, the pinned-algorithm check and the
// public entry points of auth.h for JWTs.
//
// The algorithm and the key come from the policy. The token's header only
// selects among the pinned algorithms, and a token whose `alg` is not pinned
// is rejected before its signature or claims are looked at.
#include "runtime/auth/auth.h"

#include <algorithm>
#include <cctype>

#include "runtime/auth/internal/jwt_stages.h"
#include "runtime/auth/internal/sodium_util.h"
#include "runtime/auth/internal/strict_json.h"

namespace hoody::auth {
namespace internal {
namespace {

/// Returns true when `segment` uses only the base64url alphabet and has a
/// length an unpadded encoding can have. Decoding later also rejects
/// non-zero trailing bits.
bool isBase64UrlSegment(std::string_view segment) {
  if (segment.size() % 4 == 1) {
    return false;
  }
  return std::all_of(segment.begin(), segment.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

}  // namespace

JwtFailure checkHeader(const ir::JwtSpec& spec, std::string_view token, CheckedHeader& out) {
  if (token.empty() || token.size() > kMaxJwtBytes) {
    return JwtFailure::Malformed;
  }
  size_t first_dot = token.find('.');
  size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return JwtFailure::Malformed;  // Not exactly three segments (JWE has five).
  }

  auto header_json = decodeBase64Url(token.substr(0, first_dot));
  if (!header_json) {
    return JwtFailure::Malformed;
  }
  auto header = parseJsonObject(*header_json);
  if (!header) {
    return JwtFailure::Malformed;
  }

  // The pinned-algorithm check: exact, case-sensitive, and only for names
  // this verifier implements, so "none" in any spelling never passes even if
  // it slipped into a policy.
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) {
    return JwtFailure::AlgorithmNotAllowed;
  }
  const std::string& alg_name = alg->get_ref<const std::string&>();
  const JwsAlgorithm* algorithm = findJwsAlgorithm(alg_name);
  if (algorithm == nullptr ||
      std::find(spec.algorithms.begin(), spec.algorithms.end(), alg_name) == spec.algorithms.end()) {
    return JwtFailure::AlgorithmNotAllowed;
  }

  // RFC 7515 section 4.1.11: a recipient must reject critical extensions it
  // does not understand, and this verifier understands none (`b64` included).
  if (header->contains("crit")) {
    return JwtFailure::Malformed;
  }

  std::string_view payload = token.substr(first_dot + 1, second_dot - first_dot - 1);
  std::string_view signature = token.substr(second_dot + 1);
  if (signature.empty()) {
    return JwtFailure::Malformed;  // An unsigned token.
  }
  if (!isBase64UrlSegment(payload) || !isBase64UrlSegment(signature)) {
    return JwtFailure::Malformed;
  }

  out.algorithm = algorithm;
  out.signing_input = token.substr(0, second_dot);
  out.payload = payload;
  out.signature = signature;
  return JwtFailure::None;
}

JwtFailure checkSignature(const CheckedHeader& header, const JwtKeySet& keys) {
  auto signature = decodeBase64Url(header.signature);
  if (!signature || signature->empty()) {
    return JwtFailure::Malformed;
  }
  if (!keys.verify(*header.algorithm, header.signing_input, *signature)) {
    return JwtFailure::BadSignature;
  }
  return JwtFailure::None;
}

}  // namespace internal

bool isSupportedJwtAlgorithm(std::string_view alg) {
  return internal::findJwsAlgorithm(alg) != nullptr;
}

std::string_view jwtFailureName(JwtFailure f) {
  switch (f) {
    case JwtFailure::None:
      return "none";
    case JwtFailure::Malformed:
      return "malformed";
    case JwtFailure::AlgorithmNotAllowed:
      return "algorithm-not-allowed";
    case JwtFailure::BadSignature:
      return "bad-signature";
    case JwtFailure::Expired:
      return "expired";
    case JwtFailure::NotYetValid:
      return "not-yet-valid";
    case JwtFailure::MissingExp:
      return "missing-exp";
    case JwtFailure::BadIssuer:
      return "bad-issuer";
    case JwtFailure::BadAudience:
      return "bad-audience";
    case JwtFailure::ClaimMismatch:
      return "claim-mismatch";
    case JwtFailure::BadRealm:
      return "bad-realm";
  }
  return "unknown";
}

Result<void> checkJwtKey(std::string_view pem, const std::vector<std::string>& algorithms) {
  if (algorithms.empty()) {
    return makeError("invalid-jwt-key", "no JWT algorithm is pinned; name one, e.g. `ES256`");
  }
  std::vector<const internal::JwsAlgorithm*> pinned;
  for (const std::string& name : algorithms) {
    const internal::JwsAlgorithm* alg = internal::findJwsAlgorithm(name);
    if (alg == nullptr) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return makeError("invalid-jwt-key",
                       lower == "none"
                           ? "the JWT algorithm `" + name + "` (unsigned tokens) is never allowed"
                           : "`" + name + "` is not a supported JWT algorithm; use RS256, RS384, "
                                          "RS512, PS256, PS384, PS512, ES256, ES384, ES512, "
                                          "EdDSA, HS256, HS384 or HS512");
    }
    pinned.push_back(alg);
  }

  auto keys = internal::JwtKeySet::parse(pem);
  if (!keys) {
    return Unexpected<Error>{keys.error()};
  }
  for (const internal::JwsAlgorithm* alg : pinned) {
    HOODY_TRY(keys->checkUsable(*alg));
  }
  return {};
}

JwtFailure verifyJwt(const ir::JwtSpec& spec, std::string_view realm, std::string_view token,
                     int64_t now) {
  try {
    internal::CheckedHeader header;
    if (JwtFailure f = internal::checkHeader(spec, token, header); f != JwtFailure::None) {
      return f;
    }
    auto keys = internal::JwtKeySet::parse(spec.key_pem);
    if (!keys) {
      return JwtFailure::BadSignature;  // No usable key: nothing can verify.
    }
    if (JwtFailure f = internal::checkSignature(header, *keys); f != JwtFailure::None) {
      return f;
    }
    return internal::checkClaims(spec, realm, header.payload, now);
  } catch (const std::exception&) {
    // Only allocation failures throw here, and a token that cannot be
    // checked is not accepted.
    return JwtFailure::Malformed;
  }
}

}  // namespace hoody::auth
