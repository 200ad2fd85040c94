// SPDX-License-Identifier: Apache-2.0
// Address-range tests of group IP conditions: unrolled compares for short
// lists, a static search tree for longer IPv4 lists, and a binary search
// over a constant sorted array for longer IPv6 lists.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/codegen/llvm/internal/module_builder.h"
#include "runtime/abi/decision_ir.h"

namespace hoody::codegen {

/// A static search tree over sorted IPv4 ranges. A leaf node of level 0 is
/// one 64-byte cache line: the starts of 8 ranges, then their ends. Each
/// level above contains the first start of each node of the level below, 16
/// per node, up to a single root node. Nodes are padded with 0xffffffff
/// starts, and leaf padding ends where the last range ends, so the address
/// 0xffffffff, the only one that counts padding, still decides correctly
/// (see buildV4Tree).
struct V4Tree {
  static constexpr size_t kLeafRanges = 8;
  static constexpr size_t kFanout = 16;
  static constexpr size_t kNodeWords = 16;  ///< Every node is 16 words (64 bytes).
  std::vector<std::vector<uint32_t>> levels;  ///< levels[0] contains the leaves.
  std::vector<size_t> nodes;                  ///< Nodes with real entries, per level.
};

/// Builds the tree for `ranges` (sorted, non-overlapping, not empty).
V4Tree buildV4Tree(const std::vector<ir::V4Range>& ranges);

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
  llvm::GlobalVariable* v4TreeDescriptor(const std::vector<ir::V4Range>& ranges);
  llvm::Function* v4TreeSearch();
  llvm::Function* v6Search();
  llvm::Function* emitSearch(llvm::Type* address_type, int words_per_range,
                             const char* name);
  llvm::Value* loadBound(llvm::IRBuilder<>& b, llvm::Value* table, llvm::Value* index,
                         int words_per_range, int which);
  llvm::Value* countEntries(llvm::IRBuilder<>& b, llvm::Value* level, llvm::Value* node,
                            unsigned entries, llvm::Value* address);

  ModuleBuilder& mb_;
  llvm::Function* v6_search_ = nullptr;
  llvm::Function* v4_tree_search_ = nullptr;
  /// Tree descriptors by range list, so blocks that share a list share data.
  std::map<std::vector<uint32_t>, llvm::GlobalVariable*> v4_trees_;
};

}  // namespace hoody::codegen
