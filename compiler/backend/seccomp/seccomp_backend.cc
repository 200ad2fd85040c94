// SPDX-License-Identifier: Apache-2.0
// Builds seccomp filters with libseccomp and renders LXC seccomp policies.
#include "compiler/backend/seccomp/seccomp_backend.h"

#include <errno.h>
#include <fmt/format.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <utility>

#include "compiler/backend/seccomp/bpf_eval.h"

namespace hoody::seccomp {
namespace {

constexpr std::string_view kDefaultOrigin = "default list";
// The kernel refuses longer classic BPF programs (BPF_MAXINSNS).
constexpr size_t kMaxInstructions = 4096;
// The kernel caps the errno a filter can return at MAX_ERRNO.
constexpr int kMaxErrno = 4095;

// Owns a libseccomp filter context.
class FilterContext {
 public:
  explicit FilterContext(scmp_filter_ctx ctx) : ctx_(ctx) {}
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  FilterContext(FilterContext&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
  ~FilterContext() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  scmp_filter_ctx get() const { return ctx_; }
  // Gives up ownership, after seccomp_merge consumed the context.
  void release() { ctx_ = nullptr; }

 private:
  scmp_filter_ctx ctx_;
};

Unexpected<Error> libseccompError(std::string_view description, int rc) {
  return makeError("seccomp-error",
                   fmt::format("libseccomp failed to {}: {}", description, strerror(-rc)));
}

std::string libseccompVersion() {
  const scmp_version* v = seccomp_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->micro);
}

std::string_view archName(uint32_t arch) {
  switch (arch) {
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_X86:
      return "i386";
    case SCMP_ARCH_X32:
      return "x32";
  }
  return "unknown";
}

bool existsOn(uint32_t arch, const std::string& name) {
  return seccomp_syscall_resolve_name_arch(arch, name.c_str()) >= 0;
}

uint32_t actionValue(const EffectiveRule& rule) {
  switch (rule.action) {
    case ir::SeccompAction::Errno:
      return SCMP_ACT_ERRNO(rule.errno_value);
    case ir::SeccompAction::Kill:
      return SCMP_ACT_KILL_PROCESS;
    case ir::SeccompAction::Log:
      return SCMP_ACT_LOG;
    case ir::SeccompAction::Trap:
      return SCMP_ACT_TRAP;
    case ir::SeccompAction::Allow:
      return SCMP_ACT_ALLOW;
  }
  return SCMP_ACT_KILL_PROCESS;
}

Result<void> checkRuleName(const ir::SeccompRule& rule) {
  const std::string& name = rule.syscall;
  if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()) == __NR_SCMP_ERROR) {
    return makeError("unknown-syscall",
                     fmt::format("unknown system call `{}` at {}: libseccomp {} does not know it "
                                 "on x86_64; check the spelling against the kernel's system call "
                                 "table",
                                 name, rule.origin, libseccompVersion()));
  }
  if (!existsOn(SCMP_ARCH_X86_64, name) && !existsOn(SCMP_ARCH_X86, name)) {
    return makeError("unknown-syscall",
                     fmt::format("system call `{}` at {} exists neither on x86_64 nor on i386, "
                                 "so the rule would never apply; remove it",
                                 name, rule.origin));
  }
  if (rule.action == ir::SeccompAction::Errno &&
      (rule.errno_value < 1 || rule.errno_value > kMaxErrno)) {
    return makeError("invalid-errno",
                     fmt::format("errno {} of the rule for `{}` at {} is outside 1..{}",
                                 rule.errno_value, name, rule.origin, kMaxErrno));
  }
  return {};
}

// A context that filters `arch` alone, with the attributes every hoody
// filter has. Contexts of different architectures are merged later, which
// needs equal attributes.
Result<FilterContext> newArchContext(uint32_t arch) {
  FilterContext ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (ctx.get() == nullptr)
    return makeError("seccomp-error", "libseccomp failed to create a filter");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    return libseccompError("set the bad-architecture action", rc);
  }
  // 2: a binary tree of system call numbers instead of a linear chain.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
    return libseccompError("select binary-tree optimization", rc);
  }
  if (arch != seccomp_arch_native()) {
    if (int rc = seccomp_arch_add(ctx.get(), arch); rc < 0) {
      return libseccompError(fmt::format("add architecture {}", archName(arch)), rc);
    }
    if (int rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE); rc < 0) {
      return libseccompError("remove the native architecture", rc);
    }
  }
  return ctx;
}

// Adds the rules that exist on `arch` to a context filtering `arch` alone.
// libseccomp takes system call numbers in the native table and translates
// them to `arch` by name, so the native number is passed even for i386.
Result<void> addRules(const FilterContext& ctx, uint32_t arch,
                      const std::vector<EffectiveRule>& rules) {
  for (const EffectiveRule& rule : rules) {
    if (!existsOn(arch, rule.syscall)) continue;
    int native_nr = seccomp_syscall_resolve_name(rule.syscall.c_str());
    std::string description =
        fmt::format("add the rule for `{}` ({}) on {}", rule.syscall, rule.origin, archName(arch));
    if (native_nr == __NR_SCMP_ERROR) return libseccompError(description, -ENOENT);
    uint32_t action = actionValue(rule);
    if (rule.conditions.empty()) {
      if (int rc = seccomp_rule_add_exact(ctx.get(), action, native_nr, 0); rc < 0) {
        return libseccompError(description, rc);
      }
      continue;
    }
    for (const MaskedArg& c : rule.conditions) {
      scmp_arg_cmp cmp = SCMP_CMP(c.arg, SCMP_CMP_MASKED_EQ, c.mask, c.value);
      if (int rc = seccomp_rule_add_exact_array(ctx.get(), action, native_nr, 1, &cmp); rc < 0) {
        return libseccompError(description, rc);
      }
    }
  }
  return {};
}

Result<FilterContext> buildContext(const std::vector<EffectiveRule>& rules,
                                   const FilterOptions& options) {
  auto amd64 = newArchContext(SCMP_ARCH_X86_64);
  if (!amd64) return Unexpected<Error>{amd64.error()};
  HOODY_TRY(addRules(*amd64, SCMP_ARCH_X86_64, rules));
  if (!options.filter_i386) return std::move(*amd64);

  auto i386 = newArchContext(SCMP_ARCH_X86);
  if (!i386) return Unexpected<Error>{i386.error()};
  HOODY_TRY(addRules(*i386, SCMP_ARCH_X86, rules));
  if (int rc = seccomp_merge(amd64->get(), i386->get()); rc < 0) {
    return libseccompError("merge the x86_64 and i386 filters", rc);
  }
  i386->release();
  return std::move(*amd64);
}

// Runs one of libseccomp's export functions into a memory file and returns
// description it wrote; libseccomp 2.5.4 only exports to file descriptors.
Result<std::string> exportToString(int (*export_fn)(const scmp_filter_ctx, int),
                                   const FilterContext& ctx, std::string_view description) {
  int fd = memfd_create("hoody-seccomp-export", MFD_CLOEXEC);
  if (fd < 0) {
    return makeError("io-error", fmt::format("memfd_create failed: {}", strerror(errno)));
  }
  std::string out;
  int rc = export_fn(ctx.get(), fd);
  if (rc < 0) {
    close(fd);
    return libseccompError(fmt::format("export the {}", description), rc);
  }
  if (lseek(fd, 0, SEEK_SET) < 0) {
    int e = errno;
    close(fd);
    return makeError("io-error",
                     fmt::format("lseek on the exported {} failed: {}", description, strerror(e)));
  }
  char buffer[8192];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return makeError("io-error",
                       fmt::format("reading the exported {} failed: {}", description, strerror(e)));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

Result<void> expectReturn(std::string_view bpf, const SyscallInput& input, uint32_t expected,
                          std::string_view description) {
  auto got = evaluateBpf(bpf, input);
  if (!got) {
    return makeError("filter-check-failed",
                     fmt::format("the exported filter cannot be run: {}", got.error().message));
  }
  if (*got != expected) {
    return makeError("filter-check-failed",
                     fmt::format("the exported filter returns {:#010x} instead of {:#010x} for {}",
                                 *got, expected, description));
  }
  return {};
}

bool anyConditionHolds(const std::vector<MaskedArg>& conditions,
                       const std::array<uint64_t, 6>& args) {
  for (const MaskedArg& c : conditions) {
    if ((args[c.arg] & c.mask) == c.value) return true;
  }
  return false;
}

// Checks the rules of one architecture: each rule's action for the calls it
// covers, and ALLOW for calls its conditions leave out.
Result<void> checkArchRules(std::string_view bpf, uint32_t arch, uint32_t audit_arch,
                            const std::vector<EffectiveRule>& rules) {
  for (const EffectiveRule& rule : rules) {
    int nr = seccomp_syscall_resolve_name_arch(arch, rule.syscall.c_str());
    if (nr < 0) continue;
    SyscallInput input{.arch = audit_arch, .nr = nr};
    std::string description = fmt::format("`{}` on {}", rule.syscall, archName(arch));
    if (rule.conditions.empty()) {
      HOODY_TRY(expectReturn(bpf, input, actionValue(rule), description));
      continue;
    }
    for (const MaskedArg& c : rule.conditions) {
      input.args = {};
      input.args[c.arg] = c.value;
      HOODY_TRY(
          expectReturn(bpf, input, actionValue(rule),
                       fmt::format("{} with argument {} = {:#x}", description, c.arg, c.value)));
    }
    input.args = {};
    if (!anyConditionHolds(rule.conditions, input.args)) {
      HOODY_TRY(expectReturn(bpf, input, SCMP_ACT_ALLOW, description + " with zero arguments"));
    }
  }
  return {};
}

// Runs the exported program on the cases the header promises: the rules on
// each filtered architecture, x32 and unfiltered architectures killed, and
// calls without a rule allowed.
Result<void> checkFilter(std::string_view bpf, const std::vector<EffectiveRule>& rules,
                         const FilterOptions& options) {
  constexpr uint32_t kAuditArchAarch64 = 0xc00000b7;
  constexpr int kGetpidX86_64 = 39;
  constexpr int kGetpidI386 = 20;
  HOODY_TRY(checkArchRules(bpf, SCMP_ARCH_X86_64, kAuditArchX86_64, rules));
  HOODY_TRY(expectReturn(bpf, {.arch = kAuditArchX86_64, .nr = kGetpidX86_64}, SCMP_ACT_ALLOW,
                         "getpid on x86_64"));
  HOODY_TRY(expectReturn(
      bpf, {.arch = kAuditArchX86_64, .nr = static_cast<int32_t>(kX32SyscallBit | kGetpidX86_64)},
      SCMP_ACT_KILL_PROCESS, "getpid through the x32 ABI"));
  for (const EffectiveRule& rule : rules) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, rule.syscall.c_str());
    if (nr < 0) continue;
    HOODY_TRY(expectReturn(
        bpf, {.arch = kAuditArchX86_64, .nr = static_cast<int32_t>(kX32SyscallBit | nr)},
        SCMP_ACT_KILL_PROCESS, fmt::format("`{}` through the x32 ABI", rule.syscall)));
  }
  HOODY_TRY(expectReturn(bpf, {.arch = kAuditArchAarch64, .nr = kGetpidX86_64},
                         SCMP_ACT_KILL_PROCESS, "a call of an unfiltered architecture (aarch64)"));
  if (options.filter_i386) {
    HOODY_TRY(checkArchRules(bpf, SCMP_ARCH_X86, kAuditArchI386, rules));
    HOODY_TRY(expectReturn(bpf, {.arch = kAuditArchI386, .nr = kGetpidI386}, SCMP_ACT_ALLOW,
                           "getpid on i386"));
  } else {
    HOODY_TRY(expectReturn(bpf, {.arch = kAuditArchI386, .nr = kGetpidI386}, SCMP_ACT_KILL_PROCESS,
                           "getpid on i386"));
  }
  return {};
}

std::string lxcAction(const EffectiveRule& rule) {
  switch (rule.action) {
    case ir::SeccompAction::Errno:
      return fmt::format("errno {}", rule.errno_value);
    case ir::SeccompAction::Kill:
      return "kill";
    case ir::SeccompAction::Trap:
      return "trap";
    case ir::SeccompAction::Log:
    case ir::SeccompAction::Allow:
      break;
  }
  return {};
}

void renderLxcRule(const EffectiveRule& rule, std::string& out) {
  if (rule.origin != kDefaultOrigin) out += fmt::format("# {}\n", rule.origin);
  if (rule.action == ir::SeccompAction::Log) {
    out += fmt::format("# {} log: LXC has no log action, so the call is allowed\n", rule.syscall);
    return;
  }
  std::string action = lxcAction(rule);
  if (rule.conditions.empty()) {
    out += fmt::format("{} {}\n", rule.syscall, action);
    return;
  }
  // LXC's argument syntax: [index,value,operator,mask].
  for (const MaskedArg& c : rule.conditions) {
    out += fmt::format("{} {} [{},{},SCMP_CMP_MASKED_EQ,{}]\n", rule.syscall, action, c.arg,
                       c.value, c.mask);
  }
}

}  // namespace

Result<std::vector<EffectiveRule>> effectiveRules(const ir::SeccompProfile& profile) {
  std::map<std::string, EffectiveRule> by_name;
  for (const DefaultDeny& entry : defaultDenyList()) {
    EffectiveRule rule{std::string(entry.syscall), ir::SeccompAction::Errno, entry.errno_value,
                       denyConditions(entry.filter), std::string(kDefaultOrigin)};
    by_name.emplace(rule.syscall, std::move(rule));
  }
  for (const ir::SeccompRule& rule : profile.rules) {
    HOODY_TRY(checkRuleName(rule));
    if (rule.action == ir::SeccompAction::Allow) {
      by_name.erase(rule.syscall);
      continue;
    }
    int errno_value = rule.action == ir::SeccompAction::Errno ? rule.errno_value : 0;
    by_name[rule.syscall] = EffectiveRule{rule.syscall, rule.action, errno_value, {}, rule.origin};
  }
  std::vector<EffectiveRule> rules;
  rules.reserve(by_name.size());
  for (auto& [name, rule] : by_name) rules.push_back(std::move(rule));
  return rules;
}

Result<SeccompFilter> buildFilter(const ir::SeccompProfile& profile, const FilterOptions& options) {
  auto rules = effectiveRules(profile);
  if (!rules) return Unexpected<Error>{rules.error()};
  auto ctx = buildContext(*rules, options);
  if (!ctx) return Unexpected<Error>{ctx.error()};
  auto bpf = exportToString(seccomp_export_bpf, *ctx, "BPF program");
  if (!bpf) return Unexpected<Error>{bpf.error()};

  SeccompFilter filter;
  filter.name = profile.name;
  filter.instructions = bpf->size() / 8;
  if (filter.instructions > kMaxInstructions) {
    return makeError("filter-too-long",
                     fmt::format("seccomp profile `{}` compiles to {} BPF instructions; the kernel "
                                 "accepts at most {}, so deny fewer system calls by argument",
                                 profile.name, filter.instructions, kMaxInstructions));
  }
  HOODY_TRY(checkFilter(*bpf, *rules, options));
  filter.bpf = std::move(*bpf);
  filter.lxc = renderLxcPolicy(profile.name, *rules);
  return filter;
}

Result<std::string> exportPseudoCode(const ir::SeccompProfile& profile,
                                     const FilterOptions& options) {
  auto rules = effectiveRules(profile);
  if (!rules) return Unexpected<Error>{rules.error()};
  auto ctx = buildContext(*rules, options);
  if (!ctx) return Unexpected<Error>{ctx.error()};
  return exportToString(seccomp_export_pfc, *ctx, "pseudo-code listing");
}

std::string renderLxcPolicy(std::string_view profile_name,
                            const std::vector<EffectiveRule>& rules) {
  std::string out = "2\ndenylist\n";
  out += fmt::format(
      "# Seccomp profile `{}` for lxc.seccomp.profile, written by hoodyc; "
      "edits are overwritten.\n",
      profile_name);
  out += "# System calls not listed are allowed. `kill` ends the calling thread.\n";
  // LXC's section names for x86_64, i386 and x32.
  const std::pair<uint32_t, std::string_view> sections[] = {
      {SCMP_ARCH_X86_64, "[x86_64]"}, {SCMP_ARCH_X86, "[x86]"}, {SCMP_ARCH_X32, "[x32]"}};
  for (const auto& [arch, section] : sections) {
    out += fmt::format("{}\n", section);
    for (const EffectiveRule& rule : rules) {
      if (existsOn(arch, rule.syscall)) renderLxcRule(rule, out);
    }
  }
  return out;
}

}  // namespace hoody::seccomp
