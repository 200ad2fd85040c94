// SPDX-License-Identifier: Apache-2.0
// JIT decision engine: native decision functions generated from the decision
// IR (compiler/codegen/llvm) and compiled in process with LLVM ORC LLJIT.
//
// An engine is immutable once created, so any number of threads may call
// decide() at once. Its decisions equal the reference interpreter's in
// outcome, realm, container, granting group, challenges and reason, and it
// calls the verifier exactly when and in the order the interpreter does.
// Reloads build a new engine and swap it in through JitEngineSlot; callers
// that hold the old shared_ptr finish on the old code.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "compiler/codegen/llvm/decision_codegen.h"
#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"
#include "runtime/jit/decision_abi.h"
#include "runtime/policy/decision.h"

namespace llvm::orc {
class LLJIT;
}  // namespace llvm::orc

namespace hoody::jit {

/// Wall-clock times of engine creation, in milliseconds.
struct JitStats {
  double codegen_ms = 0;  ///< Decision IR to optimized LLVM IR, or bitcode parsing.
  double jit_ms = 0;      ///< LLVM IR to linked machine code.
};

class JitEngine {
 public:
  /// Generates, verifies and compiles the decision functions of `policy`.
  /// Error codes: those of codegen::generateDecisionModule ("invalid-ir" also
  /// for a null policy), and "jit-failed" when LLVM cannot compile or link the
  /// module.
  static Result<std::shared_ptr<JitEngine>> create(std::shared_ptr<const ir::Policy> policy,
                                                   const codegen::CodegenOptions& options = {});

  /// Compiles bitcode written by codegen::emitBitcode for `policy`. Error
  /// codes: "invalid-bitcode" (unreadable or not a decision module),
  /// "abi-mismatch" (another decision ABI version or target), "policy-mismatch"
  /// (generated from another policy), "invalid-ir" (a null policy),
  /// "jit-failed".
  static Result<std::shared_ptr<JitEngine>> createFromBitcode(
      std::string_view bitcode, std::shared_ptr<const ir::Policy> policy);

  ~JitEngine();
  JitEngine(const JitEngine&) = delete;
  JitEngine& operator=(const JitEngine&) = delete;

  /// Decides one request, with the semantics of policy::Interpreter::decide.
  /// The reason is the interpreter's text; with `with_reason` false it is left
  /// empty, which saves building a string per request. When a verifier
  /// throws, the request is denied (Forbidden, no group) and failedDecisions()
  /// counts it; the interpreter would propagate the exception instead.
  policy::Decision decide(const policy::RequestFacts& facts, policy::Verifier& verifier,
                          bool with_reason = true) const;

  const ir::Policy& policy() const { return *policy_; }
  const std::shared_ptr<const ir::Policy>& shared() const { return policy_; }
  const JitStats& stats() const { return stats_; }
  /// Decisions denied because a verifier helper failed.
  uint64_t failedDecisions() const { return failed_.load(std::memory_order_relaxed); }

 private:
  /// Compiles `module` and wraps it; `stats` already holds the codegen time.
  static Result<std::shared_ptr<JitEngine>> fromModule(std::shared_ptr<const ir::Policy> policy,
                                                       std::unique_ptr<llvm::LLVMContext> context,
                                                       std::unique_ptr<llvm::Module> module,
                                                       JitStats stats);

  JitEngine(std::shared_ptr<const ir::Policy> policy, std::unique_ptr<llvm::orc::LLJIT> jit,
            DecideFunction decide, JitStats stats);

  /// Checks that the indices in `out` name existing entries of the policy.
  bool outputFits(const DecisionOutput& out) const;

  std::shared_ptr<const ir::Policy> policy_;
  /// Per realm and container: the number of groups of the container's block,
  /// or kManyGroups when it is that many or more. outputFits reads this one
  /// byte instead of the container and block records, which at 100,000
  /// containers are cache misses.
  std::vector<std::vector<uint8_t>> group_counts_;
  static constexpr uint8_t kManyGroups = 255;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  DecideFunction decide_;
  JitStats stats_;
  mutable std::atomic<uint64_t> failed_{0};
};

/// Holder of the engine that decides requests, replaced as a whole on reload.
class JitEngineSlot {
 public:
  std::shared_ptr<const JitEngine> load() const { return current_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const JitEngine> engine) {
    current_.store(std::move(engine), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const JitEngine>> current_;
};

}  // namespace hoody::jit
