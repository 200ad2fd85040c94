// SPDX-License-Identifier: Apache-2.0
// Credential verifiers: Basic passwords (argon2id, scrypt), Bearer digests
// and JWTs, plus the helpers hoodyc and the checker use to make and validate
// the stored forms.
//
// Verification never throws and never logs a credential. CachingVerifier adds
// a bounded cache of successful verifications keyed by a keyed hash of the
// credential, so a slow password hash runs once per credential, not once per
// request.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"
#include "runtime/policy/decision.h"

namespace hoody::auth {

using Digest = std::array<uint8_t, 32>;

Digest sha256(std::string_view data);

/// Constant-time equality of two digests.
bool digestEqual(const Digest& a, const Digest& b);

/// Hashes `password` as an argon2id PHC string (libsodium interactive limits).
Result<std::string> hashPassword(std::string_view password);

/// Checks that `hash` is a supported password hash: an argon2id PHC string
/// (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`) or a libsodium scrypt
/// string (`$7$...`). Error code "invalid-password-hash".
Result<void> checkPasswordHash(std::string_view hash);

/// Verifies `password` against `hash` (constant time in the hash library).
bool verifyPasswordHash(std::string_view hash, std::string_view password);

/// Supported JWS algorithms: RS256/384/512, PS256/384/512, ES256/384/512,
/// EdDSA, HS256/384/512. "none" in any letter case is never supported.
bool isSupportedJwtAlgorithm(std::string_view alg);

/// Checks that `pem` contains a key usable with every algorithm in `algorithms`.
/// Error code "invalid-jwt-key".
Result<void> checkJwtKey(std::string_view pem, const std::vector<std::string>& algorithms);

enum class JwtFailure : uint8_t {
  None, Malformed, AlgorithmNotAllowed, BadSignature, Expired, NotYetValid, MissingExp,
  BadIssuer, BadAudience, ClaimMismatch, BadRealm,
};
std::string_view jwtFailureName(JwtFailure f);

/// Verifies a compact JWS against `spec`. The header's `alg` is compared with
/// the pinned list before anything else; the key and algorithm come from the
/// policy, never from the token.
JwtFailure verifyJwt(const ir::JwtSpec& spec, std::string_view realm, std::string_view token,
                     int64_t now);

/// The verifier the proxy and `hoodyc explain` use. Not thread-safe: the proxy
/// keeps one per worker thread.
class CachingVerifier final : public policy::Verifier {
 public:
  explicit CachingVerifier(size_t max_entries = 4096);
  ~CachingVerifier() override;

  bool verifyPassword(const ir::Group& group, std::string_view user,
                      std::string_view password) override;
  bool verifyBearer(const ir::Group& group, std::string_view token) override;
  bool verifyJwt(const ir::Group& group, const ir::Realm& realm, std::string_view token,
                 int64_t now) override;

  /// Counters for metrics and tests.
  uint64_t cacheHits() const;
  uint64_t cacheMisses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hoody::auth
