// SPDX-License-Identifier: Apache-2.0
// Host lookup of the decision module: an open-addressing hash table of
// (container ID, project ID) keys, emitted as constant data, and the IR that
// probes it.
//
// A slot contains everything the entry point needs about the container, so
// a lookup touches one 32-byte slot (half a cache line) and no other
// per-container memory. At 100,000 containers every further per-container
// table would cost a cache miss per request.
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
/// the emitted lookup computes the same function. The words are multiplied
/// independently, so the three multiplications run in parallel. Table keys
/// come from the policy, not from clients, and every probed key is compared
/// in full, so the hash only has to spread keys. The secret key keeps
/// clients from predicting which slots a probe visits.
uint64_t hashIdPair(const std::array<uint64_t, 3>& words, const HashKey& key);

/// Bit positions of the fields packed into a slot's value word:
/// `(realm + 1) << realm_shift | container << container_shift | block << 1 |
/// maintenance`. The realm is stored plus one, so an empty slot's value is 0.
struct SlotLayout {
  unsigned container_shift = 1;
  unsigned realm_shift = 1;
  uint64_t block_mask = 0;      ///< Applied after shifting right by 1.
  uint64_t container_mask = 0;  ///< Applied after shifting right by container_shift.
};

/// Slots of kSlotWords words each: the three key words, then the value word.
/// The table has a power-of-two size of at least 1.25 times the container
/// count, so a probe always reaches an empty slot. The home slot of a key is the
/// top bits of its hash: `hash >> shift`.
struct HostTable {
  static constexpr size_t kSlotWords = 4;
  std::vector<uint64_t> slots;
  uint64_t mask = 0;  ///< Slot count minus one.
  unsigned shift = 63;
  SlotLayout layout;
  bool any_maintenance = false;
};

/// Builds the table with linear probing. Error codes:
/// "duplicate-container-id" when two containers have the same ID pair, and
/// "policy-too-large" when realm, container and block indices together need
/// more than the 63 bits of a value word.
Result<HostTable> buildHostTable(const ir::Policy& policy, const HashKey& key);

/// Fields of the container a lookup found, as IR values.
struct HostMatch {
  llvm::Value* realm;        ///< i32.
  llvm::Value* container;    ///< i32, index in the realm.
  llvm::Value* block;        ///< i32, index in the realm.
  llvm::Value* maintenance;  ///< i1.
};

/// Emits the probe for the ID pair of `input` (a DecisionInput pointer). On a
/// match the builder is left in a new block and the container's fields are
/// returned; a miss branches to `not_found`. Every probed key is compared as
/// a whole (XOR of all three words OR-ed together), never byte by byte with
/// an early exit.
HostMatch emitHostLookup(ModuleBuilder& mb, llvm::IRBuilder<>& b, llvm::Value* input,
                         const HostTable& table, const HashKey& key,
                         llvm::BasicBlock* not_found);

}  // namespace hoody::codegen
