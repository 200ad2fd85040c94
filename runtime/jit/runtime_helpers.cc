// SPDX-License-Identifier: Apache-2.0
// Host functions that generated decision code calls; see runtime_helpers.h.
#include "runtime/jit/runtime_helpers.h"

#include <string_view>

namespace {

using hoody::jit::DecisionInput;
using hoody::jit::VerifierContext;

// Resolves the group the generated code names, or null when the indices do
// not fit the policy (a module generated from another policy).
const hoody::ir::Group* findGroup(const VerifierContext& context, uint32_t realm,
                                  uint32_t block, uint32_t group,
                                  const hoody::ir::Realm** realm_out) {
  const auto& realms = context.policy->realms;
  if (realm >= realms.size()) return nullptr;
  const auto& blocks = realms[realm].blocks;
  if (block >= blocks.size()) return nullptr;
  const auto& groups = blocks[block].groups;
  if (group >= groups.size()) return nullptr;
  *realm_out = &realms[realm];
  return &groups[group];
}

std::string_view view(const char* data, uint64_t size) {
  return size == 0 ? std::string_view() : std::string_view(data, size);
}

// Runs `check` on the resolved group, turning bad indices and exceptions into
// a recorded failure.
template <typename Check>
uint32_t runCheck(void* context_ptr, uint32_t realm, uint32_t block, uint32_t group,
                  Check&& check) noexcept {
  auto* context = static_cast<VerifierContext*>(context_ptr);
  const hoody::ir::Realm* found_realm = nullptr;
  const hoody::ir::Group* found = findGroup(*context, realm, block, group, &found_realm);
  if (found == nullptr) {
    context->failed = true;
    return 0;
  }
  try {
    return check(*found, *found_realm) ? 1 : 0;
  } catch (...) {
    context->failed = true;
    return 0;
  }
}

}  // namespace

extern "C" {

uint32_t hoody_path_has_prefix(const char* path, uint64_t path_len, const char* prefix,
                               uint64_t prefix_len) noexcept {
  return hoody::policy::pathHasPrefix(view(path, path_len), view(prefix, prefix_len)) ? 1 : 0;
}

uint32_t hoody_verify_password(void* context, const DecisionInput* input, uint32_t realm,
                               uint32_t block, uint32_t group) noexcept {
  auto* verifier = static_cast<VerifierContext*>(context)->verifier;
  return runCheck(context, realm, block, group, [&](const auto& g, const auto&) {
    return verifier->verifyPassword(g, view(input->user, input->user_len),
                                    view(input->password, input->password_len));
  });
}

uint32_t hoody_verify_bearer(void* context, const DecisionInput* input, uint32_t realm,
                             uint32_t block, uint32_t group) noexcept {
  auto* verifier = static_cast<VerifierContext*>(context)->verifier;
  return runCheck(context, realm, block, group, [&](const auto& g, const auto&) {
    return verifier->verifyBearer(g, view(input->token, input->token_len));
  });
}

uint32_t hoody_verify_jwt(void* context, const DecisionInput* input, uint32_t realm,
                          uint32_t block, uint32_t group) noexcept {
  auto* verifier = static_cast<VerifierContext*>(context)->verifier;
  return runCheck(context, realm, block, group, [&](const auto& g, const auto& r) {
    return verifier->verifyJwt(g, r, view(input->token, input->token_len), input->now);
  });
}

}  // extern "C"
