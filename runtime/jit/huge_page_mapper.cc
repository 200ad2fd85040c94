// SPDX-License-Identifier: Apache-2.0
// Section memory with 2 MiB-aligned, huge-page-advised read-only data.
#include "runtime/jit/huge_page_mapper.h"

#include <llvm/Support/Memory.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>

namespace hoody::jit {
namespace {

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;

uintptr_t roundUp(uintptr_t value, uintptr_t unit) { return (value + unit - 1) / unit * unit; }

int protectionOf(unsigned flags) {
  int protection = 0;
  if (flags & llvm::sys::Memory::MF_READ) protection |= PROT_READ;
  if (flags & llvm::sys::Memory::MF_WRITE) protection |= PROT_WRITE;
  if (flags & llvm::sys::Memory::MF_EXEC) protection |= PROT_EXEC;
  return protection;
}

}  // namespace

HugePageMapper& HugePageMapper::instance() {
  static HugePageMapper mapper;
  return mapper;
}

llvm::sys::MemoryBlock HugePageMapper::allocateMappedMemory(
    llvm::SectionMemoryManager::AllocationPurpose purpose, size_t size,
    const llvm::sys::MemoryBlock* near, unsigned flags, std::error_code& error) {
  if (purpose != llvm::SectionMemoryManager::AllocationPurpose::ROData ||
      size < kHugeThreshold) {
    return llvm::sys::Memory::allocateMappedMemory(size, near, flags, error);
  }
  // Map one huge page more than needed, so a 2 MiB-aligned start lies inside,
  // then unmap the unaligned head and the tail. The hint keeps the data near
  // the code, as LLVM's mapper does, for the small code model's 32-bit
  // offsets.
  const uintptr_t length = roundUp(size, kHugePage);
  const uintptr_t reserve = length + kHugePage;
  void* hint = near != nullptr && near->base() != nullptr
                   ? reinterpret_cast<void*>(roundUp(
                         reinterpret_cast<uintptr_t>(near->base()) + near->allocatedSize(),
                         kHugePage))
                   : nullptr;
  void* raw = mmap(hint, reserve, protectionOf(flags), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    error = std::error_code(errno, std::generic_category());
    return {};
  }
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = roundUp(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t tail = start + reserve - (aligned + length);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  // Without transparent huge pages in the kernel this fails with EINVAL and
  // the data stays on small pages: slower, still correct.
  madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  error = std::error_code();
  return llvm::sys::MemoryBlock(reinterpret_cast<void*>(aligned), length);
}

std::error_code HugePageMapper::protectMappedMemory(const llvm::sys::MemoryBlock& block,
                                                    unsigned flags) {
  return llvm::sys::Memory::protectMappedMemory(block, flags);
}

std::error_code HugePageMapper::releaseMappedMemory(llvm::sys::MemoryBlock& block) {
  return llvm::sys::Memory::releaseMappedMemory(block);
}

}  // namespace hoody::jit
