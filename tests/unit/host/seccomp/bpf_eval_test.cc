// SPDX-License-Identifier: Apache-2.0
// Tests of the classic BPF interpreter on hand-written programs.
#include "compiler/backend/seccomp/bpf_eval.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstring>
#include <vector>

namespace hoody::seccomp {
namespace {

std::string program(const std::vector<sock_filter>& instructions) {
  std::string bytes(instructions.size() * sizeof(sock_filter), '\0');
  std::memcpy(bytes.data(), instructions.data(), bytes.size());
  return bytes;
}

// Returns EPERM for system call 101 with argument 0 equal to 7, else allows.
std::string samplePtraceFilter() {
  return program({
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),  // arch
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArchX86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),  // nr
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 101, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16),  // args[0], low half
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  });
}

TEST(BpfEvalTest, FollowsJumps) {
  std::string bpf = samplePtraceFilter();
  SyscallInput input{.arch = kAuditArchX86_64, .nr = 101};
  input.args[0] = 7;
  auto denied = evaluateBpf(bpf, input);
  ASSERT_TRUE(denied) << denied.error().str();
  EXPECT_EQ(*denied, SECCOMP_RET_ERRNO | 1u);

  input.args[0] = 8;
  auto allowed = evaluateBpf(bpf, input);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(*allowed, SECCOMP_RET_ALLOW);

  input.nr = 39;
  auto other = evaluateBpf(bpf, input);
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, SECCOMP_RET_ALLOW);
}

TEST(BpfEvalTest, ReadsArchitecture) {
  auto killed = evaluateBpf(samplePtraceFilter(), {.arch = kAuditArchI386, .nr = 101});
  ASSERT_TRUE(killed);
  EXPECT_EQ(*killed, SECCOMP_RET_KILL_PROCESS);
}

TEST(BpfEvalTest, ReadsHighArgumentHalf) {
  std::string bpf = program({
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 20),  // args[0], high half
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff),
      BPF_STMT(BPF_RET | BPF_A, 0),
  });
  SyscallInput input;
  input.args[0] = 0x12345678'9abcdef0;
  auto result = evaluateBpf(bpf, input);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 0x78u);
}

TEST(BpfEvalTest, UsesScratchMemory) {
  std::string bpf = program({
      BPF_STMT(BPF_LD | BPF_IMM, 5),
      BPF_STMT(BPF_ST, 3),
      BPF_STMT(BPF_LDX | BPF_MEM, 3),
      BPF_STMT(BPF_LD | BPF_IMM, 2),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
      BPF_STMT(BPF_RET | BPF_A, 0),
  });
  auto result = evaluateBpf(bpf, {});
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 7u);
}

TEST(BpfEvalTest, DivisionByZeroReturnsZero) {
  std::string bpf = program({
      BPF_STMT(BPF_LD | BPF_IMM, 5),
      BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  });
  auto result = evaluateBpf(bpf, {});
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 0u);
}

TEST(BpfEvalTest, RejectsMalformedPrograms) {
  auto empty = evaluateBpf("", {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, "invalid-bpf");

  auto partial = evaluateBpf(std::string(12, '\0'), {});
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error().code, "invalid-bpf");

  auto no_return = evaluateBpf(program({BPF_STMT(BPF_LD | BPF_IMM, 1)}), {});
  ASSERT_FALSE(no_return);
  EXPECT_EQ(no_return.error().message, "the program ends without a return instruction");

  auto far_jump =
      evaluateBpf(program({BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0), BPF_STMT(BPF_RET | BPF_K, 0)}), {});
  ASSERT_FALSE(far_jump);
  EXPECT_EQ(far_jump.error().message, "instruction 0: jump past the end");

  auto bad_offset = evaluateBpf(
      program({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_K, 0)}), {});
  ASSERT_FALSE(bad_offset);
  EXPECT_EQ(bad_offset.error().message, "instruction 0: load at offset 64");

  // Byte loads are valid classic BPF, but seccomp rejects them.
  auto byte_load = evaluateBpf(
      program({BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_K, 0)}), {});
  ASSERT_FALSE(byte_load);
  EXPECT_EQ(byte_load.error().code, "invalid-bpf");
}

}  // namespace
}  // namespace hoody::seccomp
