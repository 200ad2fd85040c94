// SPDX-License-Identifier: Apache-2.0
// Fuzz target for JWT verification against a fixed ES256 policy.
//
// No fuzzer input can forge a signature, so the invariant is strict: every
// input is rejected, and the verifier never crashes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/auth/auth.h"

namespace {

hoody::ir::JwtSpec makeSpec() {
  hoody::ir::JwtSpec spec;
  spec.algorithms = {"ES256"};
  spec.issuer = "https://idp.example/";
  spec.audiences = {"files"};
  spec.leeway_seconds = 30;
  spec.claims.push_back({"roles", hoody::ir::ClaimOp::Contains, "viewer"});
  // A fixed P-256 public key whose private half is not kept anywhere.
  spec.key_pem =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfEx77Riwx5rf0+8767Q8yQc1AZC8\n"
      "2BR9iVvmUCPHjCnZC70krsBdD8KVF9z+4FhueksoF0qKt19YNdd5N7+YsQ==\n"
      "-----END PUBLIC KEY-----\n";
  return spec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hoody::ir::JwtSpec spec = makeSpec();
  std::string token(reinterpret_cast<const char*>(data), size);
  if (hoody::auth::verifyJwt(spec, "acme", token, 1800000000) == hoody::auth::JwtFailure::None) {
    abort();
  }
  return 0;
}
