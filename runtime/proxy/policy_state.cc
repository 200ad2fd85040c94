// SPDX-License-Identifier: Apache-2.0
// Policy snapshots and the choice of decision engine.
#include "runtime/proxy/policy_state.h"

#include "runtime/jit/jit_engine.h"

namespace hoody::proxy {

PolicySnapshot::PolicySnapshot(std::shared_ptr<const ir::Policy> p, tls::ContextPtr ctx)
    : policy(p), interpreter(std::move(p)), tls(std::move(ctx)) {}

PolicySnapshot::PolicySnapshot(std::shared_ptr<const jit::JitEngine> jit_engine,
                               tls::ContextPtr ctx)
    : policy(jit_engine->shared()),
      interpreter(jit_engine->shared()),
      engine(std::move(jit_engine)),
      tls(std::move(ctx)) {}

PolicySnapshot::~PolicySnapshot() = default;

policy::Decision PolicySnapshot::decide(const policy::RequestFacts& facts,
                                        policy::Verifier& verifier, ReasonText reason) const {
  if (engine) return engine->decide(facts, verifier, reason == ReasonText::Build);
  return interpreter.decide(facts, verifier);
}

}  // namespace hoody::proxy
