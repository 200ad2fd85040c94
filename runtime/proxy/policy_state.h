// SPDX-License-Identifier: Apache-2.0
// The policy a worker decides with, swapped as a whole on reload.
//
// Workers copy the shared pointer once per request, so a request that started
// on one snapshot finishes on it even if a reload happens meanwhile. The
// snapshot owns its decision engine. After the last request that uses an old
// snapshot ends, a background thread frees it with its JIT code.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "runtime/abi/decision_ir.h"
#include "runtime/policy/decision.h"
#include "runtime/policy/interpreter.h"
#include "runtime/proxy/deferred_release.h"
#include "runtime/tls/context.h"

namespace hoody::jit {
class JitEngine;
}  // namespace hoody::jit

namespace hoody::proxy {

/// Whether a decision builds its human-readable reason.
enum class ReasonText : bool {
  Omit,   ///< Decision::reason may stay empty; the request path needs no reason.
  Build,  ///< Decision::reason is filled, for logs that print it.
};

struct PolicySnapshot {
  /// A snapshot whose decisions come from the reference interpreter.
  PolicySnapshot(std::shared_ptr<const ir::Policy> p, tls::ContextPtr ctx);
  /// A snapshot whose decisions come from `jit_engine`; the interpreter runs
  /// over the same policy object, for container lookups.
  PolicySnapshot(std::shared_ptr<const jit::JitEngine> jit_engine, tls::ContextPtr ctx);
  ~PolicySnapshot();
  PolicySnapshot(const PolicySnapshot&) = delete;
  PolicySnapshot& operator=(const PolicySnapshot&) = delete;

  /// Decides one request with the JIT engine when there is one, else with
  /// the interpreter. Both give the same outcome, group and challenges. The
  /// JIT engine builds the reason only with ReasonText::Build; the
  /// interpreter always builds it.
  policy::Decision decide(const policy::RequestFacts& facts, policy::Verifier& verifier,
                          ReasonText reason = ReasonText::Omit) const;

  std::shared_ptr<const ir::Policy> policy;
  policy::Interpreter interpreter;
  std::shared_ptr<const jit::JitEngine> engine;  ///< Null when the interpreter decides.
  tls::ContextPtr tls;  ///< Server certificate for the policy's node and domain.
  /// Which engine decides and how it was built, for logs.
  std::string engine_description;
};

class PolicyHolder {
 public:
  std::shared_ptr<const PolicySnapshot> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }
  /// Replaces the snapshot. The previous one is freed on a background thread
  /// once the requests that still use it end, so neither get() nor a worker
  /// waits while its JIT code and policy are freed.
  void set(std::shared_ptr<const PolicySnapshot> next) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_.swap(next);
    }
    retired_.release(std::move(next));
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicySnapshot> current_;
  DeferredRelease<const PolicySnapshot> retired_;
};

}  // namespace hoody::proxy
