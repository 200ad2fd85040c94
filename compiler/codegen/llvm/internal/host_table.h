// SPDX-License-Identifier: Apache-2.0
// Host lookup of the decision module: an open-addressing hash table of
// (container ID, project ID) keys, emitted as constant data, and the IR that
// probes it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "compiler/codegen/llvm/internal/module_builder.h"
#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"

namespace hoody::codegen {

using HashKey = std::array<uint64_t, 2>;

/// Keyed 64-bit hash of the 24 key bytes read as three native-endian words;
/// the emitted lookup computes the same function.
uint64_t hashIdPair(const std::array<uint64_t, 3>& words, const HashKey& key);

/// Slots of kSlotWords words each: the three key words, then the value
/// `(realm + 1) << 32 | container`, which is 0 in an empty slot. The table has
/// a power-of-two size of at least twice the container count, so a probe
/// always reaches an empty slot.
struct HostTable {
  static constexpr size_t kSlotWords = 4;
  std::vector<uint64_t> slots;
  uint64_t mask = 0;  ///< Slot count minus one.
};

/// Builds the table with linear probing. Error code "duplicate-container-id"
/// when two containers have the same ID pair.
Result<HostTable> buildHostTable(const ir::Policy& policy, const HashKey& key);

/// Emits the probe for the ID pair of `input` (a DecisionInput pointer). On a
/// match the builder is left in a new block and the slot value is returned; a
/// miss branches to `not_found`. Every probed key is compared as a whole
/// (XOR of all three words OR-ed together), never byte by byte with an early
/// exit.
llvm::Value* emitHostLookup(ModuleBuilder& mb, llvm::IRBuilder<>& b, llvm::Value* input,
                            const HostTable& table, const HashKey& key,
                            llvm::BasicBlock* not_found);

}  // namespace hoody::codegen
