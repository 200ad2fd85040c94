// SPDX-License-Identifier: Apache-2.0
// Address-range tests of group IP conditions.
#include "compiler/codegen/llvm/internal/ip_ranges.h"

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

}  // namespace

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
    auto* table = mb_.constantArray(llvm::ArrayRef(flattenV4(ranges)), "v4_ranges");
    hit = b.CreateCall(v4Search(), {table, b.getInt64(ranges.size()), address});
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

llvm::Function* RangeEmitter::v4Search() {
  if (!v4_search_) v4_search_ = emitSearch(mb_.i32(), 2, "v4_in_ranges");
  return v4_search_;
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

}  // namespace hoody::codegen
