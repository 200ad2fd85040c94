// SPDX-License-Identifier: Apache-2.0
// Host functions that generated decision code calls: the path-prefix test and
// the credential verifier trampolines.
//
// The JIT binds these by address (absoluteSymbols), so the executable needs no
// exported symbols. Every helper is noexcept: an exception thrown by a
// verifier is caught here, recorded in the VerifierContext and reported to
// the generated code as a failed check, so nothing unwinds through JIT code.
#pragma once

#include <cstdint>

#include "runtime/abi/decision_ir.h"
#include "runtime/jit/decision_abi.h"
#include "runtime/policy/decision.h"

namespace hoody::jit {

/// Per-call state behind DecisionInput::verifier_context.
struct VerifierContext {
  const ir::Policy* policy = nullptr;
  policy::Verifier* verifier = nullptr;
  /// Set when a helper caught an exception or received group indices outside
  /// the policy; the caller then denies the request.
  bool failed = false;
};

}  // namespace hoody::jit

extern "C" {

/// Returns 1 when policy::pathHasPrefix(path, prefix) holds, else 0.
uint32_t hoody_path_has_prefix(const char* path, uint64_t path_len, const char* prefix,
                               uint64_t prefix_len) noexcept;

/// Each verifier helper looks up group `group` of block `block` of realm
/// `realm` in the context's policy and calls the matching Verifier method with
/// the credentials in `input`. Returns 1 when the credential verified, else 0.
uint32_t hoody_verify_password(void* context, const hoody::jit::DecisionInput* input,
                               uint32_t realm, uint32_t block, uint32_t group) noexcept;
uint32_t hoody_verify_bearer(void* context, const hoody::jit::DecisionInput* input,
                             uint32_t realm, uint32_t block, uint32_t group) noexcept;
uint32_t hoody_verify_jwt(void* context, const hoody::jit::DecisionInput* input, uint32_t realm,
                          uint32_t block, uint32_t group) noexcept;

}  // extern "C"
