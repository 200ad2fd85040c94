// SPDX-License-Identifier: Apache-2.0
// Permission-block functions of the decision module: default, groups in the
// interpreter's order, grant coverage, IP conditions and verifier calls.
#pragma once

#include <map>
#include <string>

#include "compiler/codegen/llvm/internal/ip_ranges.h"
#include "compiler/codegen/llvm/internal/module_builder.h"
#include "runtime/abi/decision_ir.h"

namespace hoody::codegen {

/// Emits `void block(ptr input, ptr output, i32 realm, i32 block)` functions.
/// The function writes outcome, group and challenges; the caller has already
/// written realm and container.
class BlockEmitter {
 public:
  explicit BlockEmitter(ModuleBuilder& mb) : mb_(mb), ranges_(mb) {}

  /// Returns the function that decides `block`, emitting it unless a block of
  /// the same structure already has one.
  llvm::Function* functionFor(const ir::PermissionBlock& block);

  /// Number of distinct block functions emitted so far.
  size_t functionCount() const { return functions_.size(); }

 private:
  struct RequestValues;

  llvm::Function* emitBlock(const ir::PermissionBlock& block);
  RequestValues loadRequest(llvm::IRBuilder<>& b, llvm::Function* f,
                            const ir::PermissionBlock& block);
  void emitCoverage(llvm::IRBuilder<>& b, const RequestValues& request, const ir::Group& group,
                    llvm::BasicBlock* yes, llvm::BasicBlock* no);
  void emitIpCondition(llvm::IRBuilder<>& b, const RequestValues& request,
                       const ir::Group& group, llvm::BasicBlock* yes, llvm::BasicBlock* no);
  void emitCredentialCheck(llvm::IRBuilder<>& b, const RequestValues& request,
                           const ir::Group& group, int index, llvm::BasicBlock* yes,
                           llvm::BasicBlock* no);

  ModuleBuilder& mb_;
  RangeEmitter ranges_;
  std::map<std::string, llvm::Function*> functions_;
};

/// Evaluation rank of a group, as in the interpreter: IP-only groups first,
/// then bearer, JWT and password groups.
int groupRank(ir::CredentialKind kind);

}  // namespace hoody::codegen
