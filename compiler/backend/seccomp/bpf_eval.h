// SPDX-License-Identifier: Apache-2.0
// An interpreter for seccomp's classic BPF, used to check exported filters
// without loading them into the kernel.
//
// It runs the instruction subset the kernel accepts for seccomp filters
// (loads from struct seccomp_data, scratch memory, ALU, jumps, returns) and
// rejects anything else, so a filter it can run is one the kernel can run.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "runtime/abi/result.h"

namespace hoody::seccomp {

/// AUDIT_ARCH values of the architectures an x86_64 host runs.
inline constexpr uint32_t kAuditArchX86_64 = 0xc000003e;
inline constexpr uint32_t kAuditArchI386 = 0x40000003;
/// Set in the system call number by the x32 ABI, which shares
/// kAuditArchX86_64 with native x86_64.
inline constexpr uint32_t kX32SyscallBit = 0x40000000;

/// The input of a seccomp filter, as the kernel's struct seccomp_data.
struct SyscallInput {
  uint32_t arch = kAuditArchX86_64;
  int32_t nr = 0;
  uint64_t instruction_pointer = 0;
  std::array<uint64_t, 6> args{};
};

/// Runs `bpf` (struct sock_filter[] in host byte order, as
/// seccomp_export_bpf writes it) on `input` and returns the filter's 32-bit
/// return value (SECCOMP_RET_*). Error code "invalid-bpf" when the program is
/// empty, has a partial instruction, uses an instruction seccomp rejects,
/// jumps out of range or runs off its end.
Result<uint32_t> evaluateBpf(std::string_view bpf, const SyscallInput& input);

}  // namespace hoody::seccomp
