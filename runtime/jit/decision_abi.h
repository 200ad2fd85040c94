// SPDX-License-Identifier: Apache-2.0
// C ABI between generated decision functions and the runtime that calls them.
//
// The generated module exports one entry point, `hoody_decide`, which reads a
// DecisionInput and writes a DecisionOutput. It never unwinds. It calls back
// into the runtime only through the extern "C" helpers declared in
// runtime/jit/runtime_helpers.h, by the symbol names below. Generated code
// addresses the input fields by their byte offsets in these structs, so a
// module only runs on a host with the same struct layout (the ABI version and
// the target triple recorded in the module guard this).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hoody::jit {

/// Bumped on any change to the structs, symbols or helper signatures below.
inline constexpr uint32_t kDecisionAbiVersion = 1;

/// One request, flattened to plain data. Pointers stay valid for the call.
struct DecisionInput {
  uint8_t ids[24];          ///< Container ID (12 bytes), then project ID (12 bytes).
  uint32_t service;         ///< ir::Service value.
  uint32_t method;          ///< ir::Method value.
  const char* path;         ///< Normalized absolute path, not NUL-terminated.
  uint64_t path_len;
  uint32_t client_is_v4;    ///< 1 for IPv4 (IPv4-mapped IPv6 is passed as IPv4), else 0.
  uint32_t client_v4;       ///< IPv4 address in host byte order.
  uint64_t client_v6_hi;    ///< High 64 bits of the IPv6 address.
  uint64_t client_v6_lo;    ///< Low 64 bits of the IPv6 address.
  uint32_t credential_kind; ///< policy::Credentials::Kind value; 0 (None) without credentials.
  uint32_t reserved;
  const char* user;         ///< Basic user name.
  uint64_t user_len;
  const char* password;     ///< Basic password.
  uint64_t password_len;
  const char* token;        ///< Bearer token (opaque or a JWT).
  uint64_t token_len;
  int64_t now;              ///< Unix seconds, for JWT time checks.
  void* verifier_context;   ///< Passed unchanged to the verifier helpers.
};

/// The decision, as written by `hoody_decide`.
struct DecisionOutput {
  uint32_t outcome;     ///< policy::Outcome value.
  int32_t realm;        ///< Index into Policy::realms, or -1.
  int32_t container;    ///< Index into Realm::containers, or -1.
  int32_t group;        ///< Granting group in the block, or -1.
  uint32_t challenges;  ///< policy::kChallengeBasic | policy::kChallengeBearer bits.
  uint32_t reserved;
};

/// `uint32_t hoody_decide(const DecisionInput*, DecisionOutput*)`; returns 0.
inline constexpr const char* kDecideSymbol = "hoody_decide";
/// `i32` constant global holding kDecisionAbiVersion.
inline constexpr const char* kAbiVersionSymbol = "hoody_decision_abi_version";
/// `[32 x i8]` constant global: SHA-256 of the encoded decision IR the module
/// was generated from (bundle::encodeIr).
inline constexpr const char* kPolicyDigestSymbol = "hoody_policy_digest";

/// Helpers the generated code calls; see runtime/jit/runtime_helpers.h.
inline constexpr const char* kPathHasPrefixSymbol = "hoody_path_has_prefix";
inline constexpr const char* kVerifyPasswordSymbol = "hoody_verify_password";
inline constexpr const char* kVerifyBearerSymbol = "hoody_verify_bearer";
inline constexpr const char* kVerifyJwtSymbol = "hoody_verify_jwt";

using DecideFunction = uint32_t (*)(const DecisionInput*, DecisionOutput*);

// Field offsets the code generator uses.
inline constexpr size_t kInputIds = offsetof(DecisionInput, ids);
inline constexpr size_t kInputService = offsetof(DecisionInput, service);
inline constexpr size_t kInputMethod = offsetof(DecisionInput, method);
inline constexpr size_t kInputPath = offsetof(DecisionInput, path);
inline constexpr size_t kInputPathLen = offsetof(DecisionInput, path_len);
inline constexpr size_t kInputClientIsV4 = offsetof(DecisionInput, client_is_v4);
inline constexpr size_t kInputClientV4 = offsetof(DecisionInput, client_v4);
inline constexpr size_t kInputClientV6Hi = offsetof(DecisionInput, client_v6_hi);
inline constexpr size_t kInputClientV6Lo = offsetof(DecisionInput, client_v6_lo);
inline constexpr size_t kInputCredentialKind = offsetof(DecisionInput, credential_kind);
inline constexpr size_t kInputVerifierContext = offsetof(DecisionInput, verifier_context);

inline constexpr size_t kOutputOutcome = offsetof(DecisionOutput, outcome);
inline constexpr size_t kOutputRealm = offsetof(DecisionOutput, realm);
inline constexpr size_t kOutputContainer = offsetof(DecisionOutput, container);
inline constexpr size_t kOutputGroup = offsetof(DecisionOutput, group);
inline constexpr size_t kOutputChallenges = offsetof(DecisionOutput, challenges);

}  // namespace hoody::jit
