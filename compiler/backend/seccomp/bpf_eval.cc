// SPDX-License-Identifier: Apache-2.0
// Classic BPF interpreter for seccomp filters.
#include "compiler/backend/seccomp/bpf_eval.h"

#include <fmt/format.h>
#include <linux/filter.h>

#include <cstring>
#include <vector>

namespace hoody::seccomp {
namespace {

// Layout of struct seccomp_data: nr, arch, instruction_pointer, args[6].
constexpr uint32_t kDataSize = 64;
constexpr uint32_t kMemWords = BPF_MEMWORDS;

Unexpected<Error> invalid(size_t pc, std::string_view problem) {
  return makeError("invalid-bpf", fmt::format("instruction {}: {}", pc, problem));
}

std::array<unsigned char, kDataSize> serialize(const SyscallInput& input) {
  std::array<unsigned char, kDataSize> data{};
  std::memcpy(data.data(), &input.nr, 4);
  std::memcpy(data.data() + 4, &input.arch, 4);
  std::memcpy(data.data() + 8, &input.instruction_pointer, 8);
  std::memcpy(data.data() + 16, input.args.data(), 48);
  return data;
}

// Applies an ALU operation; returns false on division by zero, which ends a
// seccomp filter with return value 0.
bool applyAlu(uint16_t op, uint32_t& a, uint32_t operand) {
  switch (op) {
    case BPF_ADD:
      a += operand;
      break;
    case BPF_SUB:
      a -= operand;
      break;
    case BPF_MUL:
      a *= operand;
      break;
    case BPF_DIV:
      if (operand == 0) return false;
      a /= operand;
      break;
    case BPF_MOD:
      if (operand == 0) return false;
      a %= operand;
      break;
    case BPF_OR:
      a |= operand;
      break;
    case BPF_AND:
      a &= operand;
      break;
    case BPF_XOR:
      a ^= operand;
      break;
    case BPF_LSH:
      a = operand >= 32 ? 0 : a << operand;
      break;
    case BPF_RSH:
      a = operand >= 32 ? 0 : a >> operand;
      break;
    case BPF_NEG:
      a = 0 - a;
      break;
  }
  return true;
}

bool isAluOp(uint16_t op) {
  switch (op) {
    case BPF_ADD:
    case BPF_SUB:
    case BPF_MUL:
    case BPF_DIV:
    case BPF_MOD:
    case BPF_OR:
    case BPF_AND:
    case BPF_XOR:
    case BPF_LSH:
    case BPF_RSH:
    case BPF_NEG:
      return true;
  }
  return false;
}

}  // namespace

Result<uint32_t> evaluateBpf(std::string_view bpf, const SyscallInput& input) {
  if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0) {
    return makeError("invalid-bpf", fmt::format("program of {} bytes is not a whole number of "
                                                "instructions",
                                                bpf.size()));
  }
  std::vector<sock_filter> program(bpf.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bpf.data(), bpf.size());
  const auto data = serialize(input);

  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[kMemWords] = {};
  // Jumps only go forward, so the loop ends after at most program.size() steps.
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& ins = program[pc];
    const uint32_t k = ins.k;
    switch (BPF_CLASS(ins.code)) {
      case BPF_LD:
      case BPF_LDX: {
        uint32_t value = 0;
        if (ins.code == (BPF_LD | BPF_W | BPF_ABS)) {
          if (k % 4 != 0 || k >= kDataSize) return invalid(pc, fmt::format("load at offset {}", k));
          std::memcpy(&value, data.data() + k, 4);
        } else if (BPF_MODE(ins.code) == BPF_IMM && BPF_SIZE(ins.code) == BPF_W) {
          value = k;
        } else if (BPF_MODE(ins.code) == BPF_MEM && BPF_SIZE(ins.code) == BPF_W) {
          if (k >= kMemWords) return invalid(pc, fmt::format("scratch word {}", k));
          value = mem[k];
        } else if (BPF_MODE(ins.code) == BPF_LEN && BPF_SIZE(ins.code) == BPF_W) {
          value = kDataSize;
        } else {
          return invalid(pc, fmt::format("load code {:#06x} is not allowed in seccomp", ins.code));
        }
        (BPF_CLASS(ins.code) == BPF_LD ? a : x) = value;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (k >= kMemWords) return invalid(pc, fmt::format("scratch word {}", k));
        mem[k] = BPF_CLASS(ins.code) == BPF_ST ? a : x;
        break;
      case BPF_ALU: {
        const uint16_t op = BPF_OP(ins.code);
        if (!isAluOp(op)) return invalid(pc, fmt::format("ALU code {:#06x}", ins.code));
        const uint32_t operand = BPF_SRC(ins.code) == BPF_X ? x : k;
        if (!applyAlu(op, a, operand)) return 0u;
        break;
      }
      case BPF_JMP: {
        const uint16_t op = BPF_OP(ins.code);
        size_t offset = 0;
        if (op == BPF_JA) {
          offset = k;
        } else {
          const uint32_t operand = BPF_SRC(ins.code) == BPF_X ? x : k;
          bool taken = false;
          switch (op) {
            case BPF_JEQ:
              taken = a == operand;
              break;
            case BPF_JGT:
              taken = a > operand;
              break;
            case BPF_JGE:
              taken = a >= operand;
              break;
            case BPF_JSET:
              taken = (a & operand) != 0;
              break;
            default:
              return invalid(pc, fmt::format("jump code {:#06x}", ins.code));
          }
          offset = taken ? ins.jt : ins.jf;
        }
        if (pc + 1 + offset >= program.size()) return invalid(pc, "jump past the end");
        pc += offset;
        break;
      }
      case BPF_RET:
        if (BPF_RVAL(ins.code) == BPF_K) return k;
        if (BPF_RVAL(ins.code) == BPF_A) return a;
        return invalid(pc, fmt::format("return code {:#06x}", ins.code));
      case BPF_MISC:
        if (BPF_MISCOP(ins.code) == BPF_TAX) {
          x = a;
        } else if (BPF_MISCOP(ins.code) == BPF_TXA) {
          a = x;
        } else {
          return invalid(pc, fmt::format("code {:#06x}", ins.code));
        }
        break;
    }
  }
  return makeError("invalid-bpf", "the program ends without a return instruction");
}

}  // namespace hoody::seccomp
