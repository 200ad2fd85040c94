// SPDX-License-Identifier: Apache-2.0
// Address-range tests of group IP conditions.
#include "compiler/codegen/llvm/internal/ip_ranges.h"

#include <llvm/IR/Intrinsics.h>

#include <algorithm>

namespace hoody::codegen {
namespace {

std::vector<uint32_t> flattenV4(const std::vector<ir::V4Range>& ranges) {
  std::vector<uint32_t> words;
  words.reserve(ranges.size() * 2);
  for (const auto& r : ranges) {
    words.push_back(r.first);
    words.push_back(r.last);
  }
  return words;
}

std::vector<uint64_t> flattenV6(const std::vector<ir::V6Range>& ranges) {
  std::vector<uint64_t> words;
  words.reserve(ranges.size() * 4);
  for (const auto& r : ranges) {
    words.insert(words.end(), {r.first.hi, r.first.lo, r.last.hi, r.last.lo});
  }
  return words;
}

llvm::Constant* u128(ModuleBuilder& mb, const ir::U128& v) {
  uint64_t words[2] = {v.lo, v.hi};  // APInt words are least significant first.
  return llvm::ConstantInt::get(mb.context(), llvm::APInt(128, words));
}

// ORs together `first <= address <= last` for every range.
template <typename Range, typename ToConstant>
llvm::Value* unrolledTest(llvm::IRBuilder<>& b, llvm::Value* address,
                          const std::vector<Range>& ranges, ToConstant&& to_constant) {
  llvm::Value* any = b.getFalse();
  for (const auto& r : ranges) {
    llvm::Value* in_range;
    if (r.first == r.last) {
      in_range = b.CreateICmpEQ(address, to_constant(r.first));
    } else {
      in_range = b.CreateAnd(b.CreateICmpUGE(address, to_constant(r.first)),
                             b.CreateICmpULE(address, to_constant(r.last)));
    }
    any = b.CreateOr(any, in_range);
  }
  return any;
}

// Pads `level` with 0xffffffff to a whole number of 16-entry nodes.
void padToNodes(std::vector<uint32_t>& level) {
  size_t nodes = (level.size() + V4Tree::kFanout - 1) / V4Tree::kFanout;
  level.resize(nodes * V4Tree::kFanout, 0xffffffffu);
}

}  // namespace

// Why the padding is safe: a padding start counts as "at or below the
// address" only for the address 0xffffffff. Then the search may pick a node
// past the real ones, which the emitted code clamps to the last real node.
// Or it lands on a padding entry of a leaf, whose end is the last range's
// end, and 0xffffffff is in the set exactly when the last range ends there.
V4Tree buildV4Tree(const std::vector<ir::V4Range>& ranges) {
  V4Tree tree;
  constexpr size_t kLeaf = V4Tree::kLeafRanges;
  size_t leaves = (ranges.size() + kLeaf - 1) / kLeaf;
  std::vector<uint32_t> leaf_level(leaves * V4Tree::kNodeWords);
  std::vector<uint32_t> firsts;
  for (size_t node = 0; node < leaves; ++node) {
    uint32_t* words = &leaf_level[node * V4Tree::kNodeWords];
    for (size_t i = 0; i < kLeaf; ++i) {
      size_t r = node * kLeaf + i;
      words[i] = r < ranges.size() ? ranges[r].first : 0xffffffffu;
      words[kLeaf + i] = r < ranges.size() ? ranges[r].last : ranges.back().last;
    }
    firsts.push_back(words[0]);
  }
  tree.levels.push_back(std::move(leaf_level));
  tree.nodes.push_back(leaves);

  while (tree.nodes.back() > 1) {
    std::vector<uint32_t> level = firsts;
    padToNodes(level);
    tree.nodes.push_back(level.size() / V4Tree::kFanout);
    firsts.clear();
    for (size_t i = 0; i < tree.nodes.back(); ++i) firsts.push_back(level[i * V4Tree::kFanout]);
    tree.levels.push_back(std::move(level));
  }
  return tree;
}

void RangeEmitter::emitV4Test(llvm::IRBuilder<>& b, llvm::Value* address,
                              const std::vector<ir::V4Range>& ranges, llvm::BasicBlock* yes,
                              llvm::BasicBlock* no) {
  if (ranges.empty()) {
    b.CreateBr(no);
    return;
  }
  llvm::Value* hit;
  if (ranges.size() <= kUnrollLimit) {
    hit = unrolledTest(b, address, ranges, [&](uint32_t v) { return b.getInt32(v); });
  } else {
    hit = b.CreateCall(v4TreeSearch(), {v4TreeDescriptor(ranges), address});
  }
  b.CreateCondBr(hit, yes, no);
}

void RangeEmitter::emitV6Test(llvm::IRBuilder<>& b, llvm::Value* address,
                              const std::vector<ir::V6Range>& ranges, llvm::BasicBlock* yes,
                              llvm::BasicBlock* no) {
  if (ranges.empty()) {
    b.CreateBr(no);
    return;
  }
  llvm::Value* hit;
  if (ranges.size() <= kUnrollLimit) {
    hit = unrolledTest(b, address, ranges, [&](const ir::U128& v) { return u128(mb_, v); });
  } else {
    auto* table = mb_.constantArray(llvm::ArrayRef(flattenV6(ranges)), "v6_ranges");
    hit = b.CreateCall(v6Search(), {table, b.getInt64(ranges.size()), address});
  }
  b.CreateCondBr(hit, yes, no);
}

llvm::Function* RangeEmitter::v6Search() {
  if (!v6_search_) v6_search_ = emitSearch(mb_.i128(), 4, "v6_in_ranges");
  return v6_search_;
}

llvm::Value* RangeEmitter::loadBound(llvm::IRBuilder<>& b, llvm::Value* table,
                                     llvm::Value* index, int words_per_range, int which) {
  llvm::Value* base = b.CreateMul(index, b.getInt64(words_per_range));
  if (words_per_range == 2) {
    return mb_.loadElement(b, mb_.i32(), table, b.CreateAdd(base, b.getInt64(which)));
  }
  llvm::Value* hi = mb_.loadElement(b, mb_.i64(), table, b.CreateAdd(base, b.getInt64(2 * which)));
  llvm::Value* lo =
      mb_.loadElement(b, mb_.i64(), table, b.CreateAdd(base, b.getInt64(2 * which + 1)));
  return b.CreateOr(b.CreateShl(b.CreateZExt(hi, mb_.i128()), 64), b.CreateZExt(lo, mb_.i128()));
}

// Emits `i1 name(ptr table, i64 count, T address)`. Like std::upper_bound, it
// finds the first range whose start is above the address. The address is in
// the set when the range before that one ends at or after it, which is the
// same search net::setContains performs.
llvm::Function* RangeEmitter::emitSearch(llvm::Type* address_type, int words_per_range,
                                         const char* name) {
  auto* type = llvm::FunctionType::get(mb_.i1(), {mb_.ptr(), mb_.i64(), address_type}, false);
  llvm::Function* f = mb_.createFunction(type, name);
  llvm::Value* table = f->getArg(0);
  llvm::Value* count = f->getArg(1);
  llvm::Value* address = f->getArg(2);

  auto& ctx = mb_.context();
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto* loop = llvm::BasicBlock::Create(ctx, "loop", f);
  auto* body = llvm::BasicBlock::Create(ctx, "body", f);
  auto* done = llvm::BasicBlock::Create(ctx, "done", f);
  auto* check = llvm::BasicBlock::Create(ctx, "check", f);
  auto* miss = llvm::BasicBlock::Create(ctx, "miss", f);
  llvm::IRBuilder<> b(entry);
  b.CreateBr(loop);

  b.SetInsertPoint(loop);
  llvm::PHINode* low = b.CreatePHI(mb_.i64(), 2, "low");
  llvm::PHINode* high = b.CreatePHI(mb_.i64(), 2, "high");
  low->addIncoming(b.getInt64(0), entry);
  high->addIncoming(count, entry);
  b.CreateCondBr(b.CreateICmpULT(low, high), body, done);

  b.SetInsertPoint(body);
  llvm::Value* mid = b.CreateLShr(b.CreateAdd(low, high), 1, "mid");
  llvm::Value* first = loadBound(b, table, mid, words_per_range, 0);
  llvm::Value* starts_at_or_below = b.CreateICmpULE(first, address);
  low->addIncoming(b.CreateSelect(starts_at_or_below, b.CreateAdd(mid, b.getInt64(1)), low), body);
  high->addIncoming(b.CreateSelect(starts_at_or_below, high, mid), body);
  b.CreateBr(loop);

  b.SetInsertPoint(done);
  b.CreateCondBr(b.CreateICmpEQ(low, b.getInt64(0)), miss, check);

  b.SetInsertPoint(check);
  llvm::Value* last = loadBound(b, table, b.CreateSub(low, b.getInt64(1)), words_per_range, 1);
  b.CreateRet(b.CreateICmpULE(address, last));

  b.SetInsertPoint(miss);
  b.CreateRet(b.getFalse());
  return f;
}

// Returns how many of the first `entries` words of node `node` of `level`
// are at or below `address`: one aligned load of the 64-byte node, a vector
// compare and a popcount.
llvm::Value* RangeEmitter::countEntries(llvm::IRBuilder<>& b, llvm::Value* level,
                                        llvm::Value* node, unsigned entries,
                                        llvm::Value* address) {
  auto* vector_type = llvm::FixedVectorType::get(mb_.i32(), entries);
  llvm::Value* first = b.CreateMul(node, b.getInt64(V4Tree::kNodeWords));
  llvm::Value* pointer = b.CreateInBoundsGEP(mb_.i32(), level, first);
  llvm::Value* words = b.CreateAlignedLoad(vector_type, pointer, llvm::Align(64));
  llvm::Value* at_or_below = b.CreateICmpULE(words, b.CreateVectorSplat(entries, address));
  llvm::Value* mask = b.CreateBitCast(at_or_below, b.getIntNTy(entries));
  llvm::Value* count = b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, mask);
  return b.CreateZExt(count, mb_.i64());
}

// Returns the descriptor of the tree of `ranges`, a constant struct
// `{i64 depth, [depth x {ptr level, i64 last_node}]}` with the levels from
// the root down. Lists with equal ranges share one descriptor.
llvm::GlobalVariable* RangeEmitter::v4TreeDescriptor(const std::vector<ir::V4Range>& ranges) {
  std::vector<uint32_t> key = flattenV4(ranges);
  auto it = v4_trees_.find(key);
  if (it != v4_trees_.end()) return it->second;

  V4Tree tree = buildV4Tree(ranges);
  auto* level_type = llvm::StructType::get(mb_.ptr(), mb_.i64());
  std::vector<llvm::Constant*> levels;
  for (size_t level = tree.levels.size(); level-- > 0;) {
    llvm::GlobalVariable* global =
        mb_.constantArray(llvm::ArrayRef(tree.levels[level]), "v4_tree_level");
    global->setAlignment(llvm::Align(64));
    levels.push_back(llvm::ConstantStruct::get(
        level_type, {global, llvm::ConstantInt::get(mb_.i64(), tree.nodes[level] - 1)}));
  }
  auto* levels_type = llvm::ArrayType::get(level_type, levels.size());
  llvm::Constant* init = llvm::ConstantStruct::getAnon(
      {llvm::ConstantInt::get(mb_.i64(), levels.size()),
       llvm::ConstantArray::get(levels_type, levels)});
  auto* descriptor = new llvm::GlobalVariable(mb_.module(), init->getType(), /*isConstant=*/true,
                                              llvm::GlobalValue::PrivateLinkage, init,
                                              "v4_tree");
  v4_trees_.emplace(std::move(key), descriptor);
  return descriptor;
}

// Emits `i1 v4_tree_search(ptr descriptor, i32 address)`. From the root
// down to the level above the leaves, the count of a node's starts at or
// below the address selects the node of the next level. In the leaf, that
// count selects the last range starting at or below the address, and the
// address is in the set when that range ends at or after it. Every step
// reads one cache line. One shared function keeps JIT time low: a function
// per list was measured at about 4 ms of LLVM code generation each.
llvm::Function* RangeEmitter::v4TreeSearch() {
  if (v4_tree_search_) return v4_tree_search_;
  auto* type = llvm::FunctionType::get(mb_.i1(), {mb_.ptr(), mb_.i32()}, false);
  llvm::Function* f = mb_.createFunction(type, "v4_tree_search");
  v4_tree_search_ = f;
  llvm::Value* descriptor = f->getArg(0);
  llvm::Value* address = f->getArg(1);
  auto& ctx = mb_.context();
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto* loop = llvm::BasicBlock::Create(ctx, "level", f);
  auto* body = llvm::BasicBlock::Create(ctx, "inner_node", f);
  auto* leaf = llvm::BasicBlock::Create(ctx, "leaf", f);
  auto* found = llvm::BasicBlock::Create(ctx, "found", f);
  auto* miss = llvm::BasicBlock::Create(ctx, "below_first", f);
  llvm::IRBuilder<> b(entry);

  // Descriptor fields by byte offset; see v4TreeDescriptor.
  constexpr size_t kDepth = 0, kLevels = 8, kLevelSize = 16;
  auto levelField = [&](llvm::Value* level, size_t offset, llvm::Type* type, const char* name) {
    llvm::Value* at = b.CreateAdd(b.getInt64(kLevels + offset),
                                  b.CreateMul(level, b.getInt64(kLevelSize)));
    return b.CreateLoad(type, b.CreateInBoundsGEP(mb_.i8(), descriptor, at), name);
  };
  llvm::Value* depth = mb_.loadField(b, mb_.i64(), descriptor, kDepth, "depth");
  llvm::Value* leaf_level = b.CreateSub(depth, b.getInt64(1), "leaf_level");
  b.CreateBr(loop);

  // The index of the entry selected so far, which is the node to read in
  // the next level. Only the address 0xffffffff can select padding; the
  // clamp to the last real node keeps it inside the level.
  b.SetInsertPoint(loop);
  llvm::PHINode* level = b.CreatePHI(mb_.i64(), 2, "level");
  llvm::PHINode* index = b.CreatePHI(mb_.i64(), 2, "index");
  level->addIncoming(b.getInt64(0), entry);
  index->addIncoming(b.getInt64(0), entry);
  llvm::Value* entries = levelField(level, 0, mb_.ptr(), "entries");
  llvm::Value* last_node = levelField(level, 8, mb_.i64(), "last_node");
  llvm::Value* node =
      b.CreateBinaryIntrinsic(llvm::Intrinsic::umin, index, last_node, nullptr, "node");
  b.CreateCondBr(b.CreateICmpULT(level, leaf_level), body, leaf);

  // Only the root can count no entry, when the address lies below the first
  // range: every other node was selected by its first start.
  b.SetInsertPoint(body);
  auto* descend = llvm::BasicBlock::Create(ctx, "descend", f, leaf);
  llvm::Value* count = countEntries(b, entries, node, V4Tree::kFanout, address);
  b.CreateCondBr(b.CreateICmpEQ(count, b.getInt64(0)), miss, descend);
  b.SetInsertPoint(descend);
  level->addIncoming(b.CreateAdd(level, b.getInt64(1)), descend);
  index->addIncoming(b.CreateAdd(b.CreateMul(node, b.getInt64(V4Tree::kFanout)),
                                 b.CreateSub(count, b.getInt64(1))),
                     descend);
  b.CreateBr(loop);

  // Likewise, only a leaf that is also the root can count no range.
  b.SetInsertPoint(leaf);
  llvm::Value* leaf_count = countEntries(b, entries, node, V4Tree::kLeafRanges, address);
  b.CreateCondBr(b.CreateICmpEQ(leaf_count, b.getInt64(0)), miss, found);

  b.SetInsertPoint(found);
  llvm::Value* end_index = b.CreateAdd(
      b.CreateMul(node, b.getInt64(V4Tree::kNodeWords)),
      b.CreateAdd(leaf_count, b.getInt64(V4Tree::kLeafRanges - 1)));
  llvm::Value* last = mb_.loadElement(b, mb_.i32(), entries, end_index, "last");
  b.CreateRet(b.CreateICmpULE(address, last));

  b.SetInsertPoint(miss);
  b.CreateRet(b.getFalse());
  return f;
}
}  // namespace hoody::codegen
