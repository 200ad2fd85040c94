// SPDX-License-Identifier: Apache-2.0
// Tests for the JIT section mapper. Large read-only data starts on a 2 MiB
// boundary and is advised for huge pages. Code and small sections are mapped
// as LLVM does.
#include "runtime/jit/huge_page_mapper.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/unit/runtime/jit/smaps.h"

namespace hoody::jit {
namespace {

using Purpose = llvm::SectionMemoryManager::AllocationPurpose;
constexpr uintptr_t kTwoMiB = uintptr_t{2} << 20;
constexpr unsigned kReadWrite = llvm::sys::Memory::MF_READ | llvm::sys::Memory::MF_WRITE;

const testing::Mapping* mappingAt(const std::vector<testing::Mapping>& mappings,
                                  const void* address) {
  auto a = reinterpret_cast<uintptr_t>(address);
  for (const auto& m : mappings) {
    if (m.start <= a && a < m.end) return &m;
  }
  return nullptr;
}

TEST(HugePageMapperTest, LargeReadOnlyDataIsAligned) {
  HugePageMapper& mapper = HugePageMapper::instance();
  std::error_code error;
  llvm::sys::MemoryBlock block =
      mapper.allocateMappedMemory(Purpose::ROData, 3 << 20, nullptr, kReadWrite, error);
  ASSERT_FALSE(error) << error.message();
  ASSERT_NE(block.base(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block.base()) % kTwoMiB, 0u);
  EXPECT_EQ(block.allocatedSize(), size_t{4} << 20);
  std::memset(block.base(), 0x5a, block.allocatedSize());
  ASSERT_FALSE(mapper.protectMappedMemory(block, llvm::sys::Memory::MF_READ));
  EXPECT_EQ(static_cast<const unsigned char*>(block.base())[(4 << 20) - 1], 0x5a);

  auto mappings = testing::readMappings();
  const testing::Mapping* m = mappingAt(mappings, block.base());
  ASSERT_NE(m, nullptr);
  if (testing::transparentHugePagesAvailable()) {
    EXPECT_TRUE(m->huge_advised);
  }

  void* base = block.base();
  ASSERT_FALSE(mapper.releaseMappedMemory(block));
  EXPECT_EQ(mappingAt(testing::readMappings(), base), nullptr);
}

TEST(HugePageMapperTest, CodeAndSmallDataStayOnSmallPages) {
  HugePageMapper& mapper = HugePageMapper::instance();
  for (auto [purpose, size] : {std::pair{Purpose::Code, size_t{4} << 20},
                               std::pair{Purpose::RWData, size_t{4} << 20},
                               std::pair{Purpose::ROData, size_t{64} << 10}}) {
    std::error_code error;
    llvm::sys::MemoryBlock block =
        mapper.allocateMappedMemory(purpose, size, nullptr, kReadWrite, error);
    ASSERT_FALSE(error) << error.message();
    EXPECT_GE(block.allocatedSize(), size);
    const testing::Mapping* m = mappingAt(testing::readMappings(), block.base());
    ASSERT_NE(m, nullptr);
    EXPECT_FALSE(m->huge_advised) << "size " << size;
    ASSERT_FALSE(mapper.releaseMappedMemory(block));
  }
}

}  // namespace
}  // namespace hoody::jit
