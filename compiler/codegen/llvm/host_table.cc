// SPDX-License-Identifier: Apache-2.0
// Host lookup of the decision module: the constant hash table and its probe.
#include "compiler/codegen/llvm/internal/host_table.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "runtime/jit/decision_abi.h"

namespace hoody::codegen {
namespace {

// Odd multipliers with well-spread bits (from SplitMix64 and MurmurHash3).
constexpr uint64_t kMultipliers[3] = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL,
                                      0xc4ceb9fe1a85ec53ULL};

// The third word's key: both key words, so it differs from either.
uint64_t thirdKey(const HashKey& key) { return key[0] ^ std::rotl(key[1], 32); }

std::array<uint64_t, 3> keyWords(const ir::Container& c) {
  uint8_t bytes[24];
  std::memcpy(bytes, c.id.data(), 12);
  std::memcpy(bytes + 12, c.project_id.data(), 12);
  std::array<uint64_t, 3> words;
  std::memcpy(words.data(), bytes, sizeof bytes);
  return words;
}

std::string hexId(const ir::Id96& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : id) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

// Bits needed to store every value up to `max`.
unsigned bitsFor(uint64_t max) { return static_cast<unsigned>(std::bit_width(max)); }

uint64_t lowMask(unsigned bits) { return bits >= 64 ? ~0ULL : (1ULL << bits) - 1; }

Result<SlotLayout> chooseLayout(const ir::Policy& policy) {
  size_t max_containers = 0;
  size_t max_blocks = 0;
  for (const auto& realm : policy.realms) {
    max_containers = std::max(max_containers, realm.containers.size());
    max_blocks = std::max(max_blocks, realm.blocks.size());
  }
  unsigned block_bits = bitsFor(max_blocks > 0 ? max_blocks - 1 : 0);
  unsigned container_bits = bitsFor(max_containers > 0 ? max_containers - 1 : 0);
  unsigned realm_bits = bitsFor(policy.realms.size());
  if (1 + block_bits + container_bits + realm_bits > 64) {
    return makeError("policy-too-large",
                     std::to_string(policy.realms.size()) + " realms of up to " +
                         std::to_string(max_containers) + " containers and " +
                         std::to_string(max_blocks) +
                         " permission blocks need more than 64 bits per host table entry; "
                         "split the policy into separate bundles");
  }
  SlotLayout layout;
  layout.block_mask = lowMask(block_bits);
  layout.container_shift = 1 + block_bits;
  layout.container_mask = lowMask(container_bits);
  layout.realm_shift = layout.container_shift + container_bits;
  return layout;
}

uint64_t packValue(const SlotLayout& layout, size_t realm, size_t container,
                   const ir::Container& c) {
  return (static_cast<uint64_t>(realm) + 1) << layout.realm_shift |
         static_cast<uint64_t>(container) << layout.container_shift |
         static_cast<uint64_t>(c.block) << 1 | (c.maintenance ? 1 : 0);
}

}  // namespace

uint64_t hashIdPair(const std::array<uint64_t, 3>& words, const HashKey& key) {
  const uint64_t keys[3] = {key[0], key[1], thirdKey(key)};
  uint64_t h = 0;
  for (int i = 0; i < 3; ++i) h ^= (words[i] ^ keys[i]) * kMultipliers[i];
  return h;
}

Result<HostTable> buildHostTable(const ir::Policy& policy, const HashKey& key) {
  auto layout = chooseLayout(policy);
  if (!layout) return Unexpected<Error>{layout.error()};
  size_t count = 0;
  for (const auto& realm : policy.realms) count += realm.containers.size();
  // At most 80% full. On the decision benchmark at 100,000 containers, a
  // 4 MiB table (76% full) decided in 105-127 ns and an 8 MiB one (38% full)
  // in 164-289 ns. Each request reads the table at a random slot, and a
  // smaller table misses the caches and the TLB less often. That gain
  // outweighs the longer probes.
  size_t size = 2;
  while (size * 4 < count * 5) size *= 2;

  HostTable table;
  table.mask = size - 1;
  table.shift = 64 - static_cast<unsigned>(std::countr_zero(size));
  table.layout = *layout;
  table.slots.assign(size * HostTable::kSlotWords, 0);
  for (size_t r = 0; r < policy.realms.size(); ++r) {
    const auto& containers = policy.realms[r].containers;
    for (size_t c = 0; c < containers.size(); ++c) {
      table.any_maintenance = table.any_maintenance || containers[c].maintenance;
      auto words = keyWords(containers[c]);
      uint64_t slot = hashIdPair(words, key) >> table.shift;
      while (true) {
        uint64_t* entry = &table.slots[slot * HostTable::kSlotWords];
        if (entry[3] == 0) {
          std::memcpy(entry, words.data(), sizeof words);
          entry[3] = packValue(table.layout, r, c, containers[c]);
          break;
        }
        if (std::memcmp(entry, words.data(), sizeof words) == 0) {
          return makeError("duplicate-container-id",
                           "container `" + containers[c].name + "` has the ID pair " +
                               hexId(containers[c].id) + "-" + hexId(containers[c].project_id) +
                               " of an earlier container; give it a new ID");
        }
        slot = (slot + 1) & table.mask;
      }
    }
  }
  return table;
}

HostMatch emitHostLookup(ModuleBuilder& mb, llvm::IRBuilder<>& b, llvm::Value* input,
                         const HostTable& table, const HashKey& key,
                         llvm::BasicBlock* not_found) {
  auto* init = llvm::ConstantDataArray::get(mb.context(), llvm::ArrayRef(table.slots));
  auto* slots = new llvm::GlobalVariable(mb.module(), init->getType(), /*isConstant=*/true,
                                         llvm::GlobalValue::PrivateLinkage, init, "host_table");
  slots->setAlignment(llvm::Align(32));

  // Hash the three key words of the request the same way hashIdPair does.
  const uint64_t keys[3] = {key[0], key[1], thirdKey(key)};
  llvm::Value* words[3];
  llvm::Value* h = nullptr;
  for (int i = 0; i < 3; ++i) {
    words[i] = mb.loadField(b, mb.i64(), input, jit::kInputIds + 8 * i, "id_word");
    llvm::Value* product =
        b.CreateMul(b.CreateXor(words[i], b.getInt64(keys[i])), b.getInt64(kMultipliers[i]));
    h = h ? b.CreateXor(h, product) : product;
  }
  llvm::Value* start = b.CreateLShr(h, table.shift, "start");

  llvm::Function* f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock* entry = b.GetInsertBlock();
  auto* probe = llvm::BasicBlock::Create(mb.context(), "probe", f);
  auto* compare = llvm::BasicBlock::Create(mb.context(), "compare", f);
  auto* next = llvm::BasicBlock::Create(mb.context(), "next_slot", f);
  auto* found = llvm::BasicBlock::Create(mb.context(), "found", f);
  b.CreateBr(probe);

  // An empty slot ends the probe: the ID pair is unknown.
  b.SetInsertPoint(probe);
  llvm::PHINode* slot = b.CreatePHI(mb.i64(), 2, "slot");
  slot->addIncoming(start, entry);
  llvm::Value* base = b.CreateShl(slot, 2, "slot_base");
  llvm::Value* value =
      mb.loadElement(b, mb.i64(), slots, b.CreateOr(base, b.getInt64(3)), "slot_value");
  b.CreateCondBr(b.CreateICmpEQ(value, b.getInt64(0)), not_found, compare);

  // Compare all 24 bytes at once: any differing bit leaves `diff` non-zero.
  b.SetInsertPoint(compare);
  llvm::Value* diff = nullptr;
  for (int i = 0; i < 3; ++i) {
    llvm::Value* stored = mb.loadElement(b, mb.i64(), slots,
                                         i == 0 ? base : b.CreateOr(base, b.getInt64(i)));
    llvm::Value* x = b.CreateXor(stored, words[i]);
    diff = diff ? b.CreateOr(diff, x) : x;
  }
  b.CreateCondBr(b.CreateICmpEQ(diff, b.getInt64(0)), found, next);

  b.SetInsertPoint(next);
  slot->addIncoming(b.CreateAnd(b.CreateAdd(slot, b.getInt64(1)), b.getInt64(table.mask)), next);
  b.CreateBr(probe);

  // Unpack the value word (see SlotLayout).
  b.SetInsertPoint(found);
  const SlotLayout& layout = table.layout;
  auto field = [&](unsigned shift, uint64_t mask, const char* name) {
    llvm::Value* shifted = shift == 0 ? value : b.CreateLShr(value, shift);
    return b.CreateTrunc(b.CreateAnd(shifted, b.getInt64(mask)), mb.i32(), name);
  };
  HostMatch match;
  match.realm = b.CreateSub(
      b.CreateTrunc(b.CreateLShr(value, layout.realm_shift), mb.i32()), b.getInt32(1), "realm");
  match.container = field(layout.container_shift, layout.container_mask, "container");
  match.block = field(1, layout.block_mask, "block");
  match.maintenance = b.CreateTrunc(value, mb.i1(), "maintenance");
  return match;
}

}  // namespace hoody::codegen
