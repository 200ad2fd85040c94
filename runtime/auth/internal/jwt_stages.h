// SPDX-License-Identifier: Apache-2.0
// The three stages of JWT verification, exposed separately so the caching
// verifier can skip the signature stage for a token it has seen, while still
// running the header and claim stages on every request.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/abi/decision_ir.h"
#include "runtime/auth/auth.h"
#include "runtime/auth/internal/jwt_key.h"

namespace hoody::auth::internal {

/// Maximum token length accepted, in bytes. The cap bounds decoding work and
/// is an estimate: tokens from identity providers are a few KiB even with
/// many group claims.
inline constexpr size_t kMaxJwtBytes = 32 * 1024;

/// A compact JWS whose header passed the checks. The views point into the
/// token.
struct CheckedHeader {
  const JwsAlgorithm* algorithm = nullptr;
  std::string_view signing_input;  ///< `header.payload` as sent, the signed bytes.
  std::string_view payload;        ///< The base64url payload segment.
  std::string_view signature;      ///< The base64url signature segment.
};

/// Stage 1: checks the compact form (three base64url segments), decodes the
/// header and compares its `alg` with the pinned list before anything else.
/// A `crit` member gives Malformed because no extension is supported.
JwtFailure checkHeader(const ir::JwtSpec& spec, std::string_view token, CheckedHeader& out);

/// Stage 2: decodes the signature and verifies it with `keys`.
JwtFailure checkSignature(const CheckedHeader& header, const JwtKeySet& keys);

/// Stage 3: decodes the payload and checks exp, nbf, iss, aud, the claim
/// rules and the realm claim, in that order, against `now` (Unix seconds).
JwtFailure checkClaims(const ir::JwtSpec& spec, std::string_view realm,
                       std::string_view payload, int64_t now);

}  // namespace hoody::auth::internal
