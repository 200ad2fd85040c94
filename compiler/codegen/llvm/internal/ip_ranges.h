// SPDX-License-Identifier: Apache-2.0
// Address-range tests of group IP conditions: unrolled compares for short
// lists, a binary search over a constant sorted array for longer ones.
#pragma once

#include <vector>

#include "compiler/codegen/llvm/internal/module_builder.h"
#include "runtime/abi/decision_ir.h"

namespace hoody::codegen {

class RangeEmitter {
 public:
  /// Lists up to this length are tested with straight-line compares.
  static constexpr size_t kUnrollLimit = 4;

  explicit RangeEmitter(ModuleBuilder& mb) : mb_(mb) {}

  /// Emits a branch to `yes` when the i32 `address` lies in one of `ranges`
  /// (sorted, non-overlapping), else to `no`.
  void emitV4Test(llvm::IRBuilder<>& b, llvm::Value* address,
                  const std::vector<ir::V4Range>& ranges, llvm::BasicBlock* yes,
                  llvm::BasicBlock* no);
  /// The same for the i128 `address` and IPv6 ranges.
  void emitV6Test(llvm::IRBuilder<>& b, llvm::Value* address,
                  const std::vector<ir::V6Range>& ranges, llvm::BasicBlock* yes,
                  llvm::BasicBlock* no);

 private:
  llvm::Function* v4Search();
  llvm::Function* v6Search();
  llvm::Function* emitSearch(llvm::Type* address_type, int words_per_range,
                             const char* name);
  llvm::Value* loadBound(llvm::IRBuilder<>& b, llvm::Value* table, llvm::Value* index,
                         int words_per_range, int which);

  ModuleBuilder& mb_;
  llvm::Function* v4_search_ = nullptr;
  llvm::Function* v6_search_ = nullptr;
};

}  // namespace hoody::codegen
