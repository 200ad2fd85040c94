// SPDX-License-Identifier: Apache-2.0
// Memory for JIT-compiled decision modules that puts large read-only data on
// transparent huge pages.
//
// Each request reads the host table at a random slot, and with long CIDR
// lists one of the range tables. At 100,000 containers the host table alone
// is 4 MiB: 1,024 pages of 4 KiB, more than the TLB keeps, so on small pages
// most lookups pay a page walk before the cache miss. On this project's
// 2-core VM, a chain of dependent random reads in 4 MiB took about 90 ns per
// read on 4 KiB pages and about 21 ns on 2 MiB pages. LLVM's default mapper
// maps every section on small pages.
#pragma once

#include <llvm/ExecutionEngine/SectionMemoryManager.h>

#include <cstddef>

namespace hoody::jit {

class HugePageMapper final : public llvm::SectionMemoryManager::MemoryMapper {
 public:
  /// Size from which read-only data starts on a 2 MiB boundary and is advised
  /// for huge pages. Smaller sections and code are mapped as LLVM does.
  static constexpr size_t kHugeThreshold = size_t{1} << 20;

  /// Returns the process-wide instance, which keeps no state.
  static HugePageMapper& instance();

  llvm::sys::MemoryBlock allocateMappedMemory(
      llvm::SectionMemoryManager::AllocationPurpose purpose, size_t size,
      const llvm::sys::MemoryBlock* near, unsigned flags, std::error_code& error) override;
  std::error_code protectMappedMemory(const llvm::sys::MemoryBlock& block,
                                      unsigned flags) override;
  std::error_code releaseMappedMemory(llvm::sys::MemoryBlock& block) override;
};

}  // namespace hoody::jit
