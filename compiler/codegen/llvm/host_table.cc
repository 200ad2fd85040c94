// SPDX-License-Identifier: Apache-2.0
// Host lookup of the decision module: the constant hash table and its probe.
#include "compiler/codegen/llvm/internal/host_table.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>

#include <cstring>
#include <string>

#include "runtime/jit/decision_abi.h"

namespace hoody::codegen {
namespace {

constexpr uint64_t kMul1 = 0xff51afd7ed558ccdULL;
constexpr uint64_t kMul2 = 0xc4ceb9fe1a85ec53ULL;

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= kMul1;
  x ^= x >> 33;
  x *= kMul2;
  x ^= x >> 33;
  return x;
}

llvm::Value* emitMix(llvm::IRBuilder<>& b, llvm::Value* x) {
  x = b.CreateXor(x, b.CreateLShr(x, 33));
  x = b.CreateMul(x, b.getInt64(kMul1));
  x = b.CreateXor(x, b.CreateLShr(x, 33));
  x = b.CreateMul(x, b.getInt64(kMul2));
  return b.CreateXor(x, b.CreateLShr(x, 33));
}

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

}  // namespace

uint64_t hashIdPair(const std::array<uint64_t, 3>& words, const HashKey& key) {
  uint64_t h = key[0];
  for (uint64_t w : words) h = mix(h ^ w ^ key[1]);
  return h;
}

Result<HostTable> buildHostTable(const ir::Policy& policy, const HashKey& key) {
  size_t count = 0;
  for (const auto& realm : policy.realms) count += realm.containers.size();
  size_t size = 2;
  while (size < 2 * count) size *= 2;

  HostTable table;
  table.mask = size - 1;
  table.slots.assign(size * HostTable::kSlotWords, 0);
  for (size_t r = 0; r < policy.realms.size(); ++r) {
    const auto& containers = policy.realms[r].containers;
    for (size_t c = 0; c < containers.size(); ++c) {
      auto words = keyWords(containers[c]);
      uint64_t slot = hashIdPair(words, key) & table.mask;
      while (true) {
        uint64_t* entry = &table.slots[slot * HostTable::kSlotWords];
        if (entry[3] == 0) {
          std::memcpy(entry, words.data(), sizeof words);
          entry[3] = (static_cast<uint64_t>(r) + 1) << 32 | c;
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

llvm::Value* emitHostLookup(ModuleBuilder& mb, llvm::IRBuilder<>& b, llvm::Value* input,
                            const HostTable& table, const HashKey& key,
                            llvm::BasicBlock* not_found) {
  auto* init = llvm::ConstantDataArray::get(mb.context(), llvm::ArrayRef(table.slots));
  auto* slots = new llvm::GlobalVariable(mb.module(), init->getType(), /*isConstant=*/true,
                                         llvm::GlobalValue::PrivateLinkage, init, "host_table");
  slots->setAlignment(llvm::Align(32));

  // Hash the three key words of the request the same way hashIdPair does.
  llvm::Value* words[3];
  llvm::Value* h = b.getInt64(key[0]);
  for (int i = 0; i < 3; ++i) {
    words[i] = mb.loadField(b, mb.i64(), input, jit::kInputIds + 8 * i, "id_word");
    h = emitMix(b, b.CreateXor(b.CreateXor(h, words[i]), b.getInt64(key[1])));
  }
  llvm::Value* start = b.CreateAnd(h, b.getInt64(table.mask), "start");

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

  b.SetInsertPoint(found);
  return value;
}

}  // namespace hoody::codegen
