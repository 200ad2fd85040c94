// SPDX-License-Identifier: Apache-2.0
// Tests of the seccomp back end: rule merging, errors, architectures (run
// through the BPF interpreter) and the LXC policy text.
#include "compiler/backend/seccomp/seccomp_backend.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

#include "compiler/backend/seccomp/bpf_eval.h"

namespace hoody::seccomp {
namespace {

using ir::SeccompAction;

ir::SeccompRule rule(std::string syscall, SeccompAction action, int errno_value = 0,
                     std::string origin = "team.hoody:70") {
  return ir::SeccompRule{std::move(syscall), action, errno_value, std::move(origin)};
}

ir::SeccompProfile profile(std::vector<ir::SeccompRule> rules) {
  return ir::SeccompProfile{"c-0f3e2d1c4b5a69788796a5b4", std::move(rules)};
}

// System call numbers of the tables the tests reason about.
constexpr int kPtraceX86_64 = 101;
constexpr int kPtraceI386 = 26;
constexpr int kMsyncX86_64 = 26;  // Same number as i386 ptrace.
constexpr int kSyslog = 103;      // Same number on x86_64 and i386.
constexpr int kStimeI386 = 25;
constexpr int kGetpidI386 = 20;

uint32_t run(const SeccompFilter& filter, uint32_t arch, int nr, uint64_t arg0 = 0) {
  SyscallInput input{.arch = arch, .nr = nr};
  input.args[0] = arg0;
  auto result = evaluateBpf(filter.bpf, input);
  EXPECT_TRUE(result) << result.error().str();
  return result ? *result : 0xdeadbeef;
}

const EffectiveRule* findRule(const std::vector<EffectiveRule>& rules, std::string_view name) {
  for (const EffectiveRule& r : rules) {
    if (r.syscall == name) return &r;
  }
  return nullptr;
}

TEST(SeccompBackendTest, DefaultRulesAreTheDenyList) {
  auto rules = effectiveRules(profile({}));
  ASSERT_TRUE(rules) << rules.error().str();
  ASSERT_EQ(rules->size(), defaultDenyList().size());
  const EffectiveRule* mount = findRule(*rules, "mount");
  ASSERT_NE(mount, nullptr);
  EXPECT_EQ(mount->action, SeccompAction::Errno);
  EXPECT_EQ(mount->errno_value, EPERM);
  EXPECT_EQ(mount->origin, "default list");
  EXPECT_EQ(findRule(*rules, "ptrace"), nullptr);
}

TEST(SeccompBackendTest, LaterRulesWin) {
  auto rules = effectiveRules(profile({
      rule("ptrace", SeccompAction::Errno, EPERM, "team.hoody:70"),
      rule("syslog", SeccompAction::Allow, 0, "team.hoody:71"),
      rule("reboot", SeccompAction::Errno, ENOTRECOVERABLE, "team.hoody:72"),
      rule("clone", SeccompAction::Kill, 0, "team.hoody:73"),
      rule("kexec_load", SeccompAction::Trap, 0, "team.hoody:74"),
      rule("kexec_load", SeccompAction::Log, 0, "team.hoody:75"),
  }));
  ASSERT_TRUE(rules) << rules.error().str();
  EXPECT_EQ(findRule(*rules, "syslog"), nullptr);
  const EffectiveRule* ptrace = findRule(*rules, "ptrace");
  ASSERT_NE(ptrace, nullptr);
  EXPECT_EQ(ptrace->origin, "team.hoody:70");
  EXPECT_EQ(findRule(*rules, "reboot")->errno_value, ENOTRECOVERABLE);
  const EffectiveRule* clone = findRule(*rules, "clone");
  EXPECT_EQ(clone->action, SeccompAction::Kill);
  EXPECT_TRUE(clone->conditions.empty()) << "a rule replaces the default entry's conditions";
  EXPECT_EQ(findRule(*rules, "kexec_load")->action, SeccompAction::Log);
  EXPECT_EQ(findRule(*rules, "kexec_load")->origin, "team.hoody:75");
}

TEST(SeccompBackendTest, UnknownSyscallNamesOrigin) {
  auto filter =
      buildFilter(profile({rule("ptrcae", SeccompAction::Errno, EPERM, "team.hoody:12")}));
  ASSERT_FALSE(filter);
  EXPECT_EQ(filter.error().code, "unknown-syscall");
  EXPECT_NE(filter.error().message.find("`ptrcae`"), std::string::npos) << filter.error().message;
  EXPECT_NE(filter.error().message.find("team.hoody:12"), std::string::npos);
}

TEST(SeccompBackendTest, ForeignSyscallIsRejected) {
  // libseccomp resolves this ARM call's name on every architecture, but the
  // call exists only on ARM.
  auto filter =
      buildFilter(profile({rule("arm_fadvise64_64", SeccompAction::Kill, 0, "a.hoody:3")}));
  ASSERT_FALSE(filter);
  EXPECT_EQ(filter.error().code, "unknown-syscall");
  EXPECT_NE(filter.error().message.find("a.hoody:3"), std::string::npos);
}

TEST(SeccompBackendTest, InvalidErrnoIsRejected) {
  for (int bad : {0, -1, 4096}) {
    auto filter = buildFilter(profile({rule("ptrace", SeccompAction::Errno, bad)}));
    ASSERT_FALSE(filter) << bad;
    EXPECT_EQ(filter.error().code, "invalid-errno");
  }
}

TEST(SeccompBackendTest, DefaultFilterDeniesWithEperm) {
  auto filter = buildFilter(profile({}));
  ASSERT_TRUE(filter) << filter.error().str();
  EXPECT_EQ(filter->name, "c-0f3e2d1c4b5a69788796a5b4");
  EXPECT_EQ(filter->instructions * sizeof(sock_filter), filter->bpf.size());
  EXPECT_GT(filter->instructions, 50u);
  EXPECT_LE(filter->instructions, 4096u);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_mount), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_clone3), SECCOMP_RET_ERRNO | ENOSYS);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, kPtraceX86_64), SECCOMP_RET_ALLOW);
}

TEST(SeccompBackendTest, ArgumentConditionsReachBpf) {
  auto filter = buildFilter(profile({}));
  ASSERT_TRUE(filter) << filter.error().str();
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_clone, CLONE_NEWUSER | SIGCHLD),
            SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_clone, SIGCHLD), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_unshare, CLONE_NEWTIME), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_unshare, CLONE_FILES), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_personality, 0xffffffff), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_personality, 0x20008), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_personality, 0x0040000), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_personality, 0x80040000), SECCOMP_RET_ERRNO | EPERM);
}

TEST(SeccompBackendTest, ActionsReachBpf) {
  auto filter = buildFilter(profile({
      rule("ptrace", SeccompAction::Kill),
      rule("getppid", SeccompAction::Trap),
      rule("uname", SeccompAction::Log),
      rule("reboot", SeccompAction::Errno, ENOTRECOVERABLE),
      rule("syslog", SeccompAction::Allow),
  }));
  ASSERT_TRUE(filter) << filter.error().str();
  EXPECT_EQ(run(*filter, kAuditArchX86_64, kPtraceX86_64), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_getppid), SECCOMP_RET_TRAP);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_uname), SECCOMP_RET_LOG);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, SYS_reboot), SECCOMP_RET_ERRNO | ENOTRECOVERABLE);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, kSyslog), SECCOMP_RET_ALLOW);
}

// The x32 ABI shares x86_64's AUDIT_ARCH and sets bit 30 of the number; a
// deny list that only compares numbers misses it.
TEST(SeccompBackendTest, X32CallsAreKilled) {
  auto filter = buildFilter(profile({rule("ptrace", SeccompAction::Errno, EPERM)}));
  ASSERT_TRUE(filter) << filter.error().str();
  constexpr int kPtraceX32 = 521;
  for (int nr : {kPtraceX32, kPtraceX86_64, SYS_mount, SYS_kexec_load, SYS_getpid, kSyslog}) {
    EXPECT_EQ(run(*filter, kAuditArchX86_64, static_cast<int>(kX32SyscallBit | nr)),
              SECCOMP_RET_KILL_PROCESS)
        << "x32 call " << nr;
  }
}

// libseccomp 2.5.4 emits the x32 check right after the architecture check:
// load nr; jge 0x40000000. The PFC listing does not show it, so look at the
// instructions.
TEST(SeccompBackendTest, X32CheckFollowsArchCheck) {
  auto filter = buildFilter(profile({}));
  ASSERT_TRUE(filter);
  std::vector<sock_filter> ins(filter->instructions);
  std::memcpy(ins.data(), filter->bpf.data(), filter->bpf.size());
  ASSERT_GE(ins.size(), 4u);
  EXPECT_EQ(ins[0].code, BPF_LD | BPF_W | BPF_ABS);
  EXPECT_EQ(ins[0].k, 4u);  // arch
  EXPECT_EQ(ins[1].code, BPF_JMP | BPF_JEQ | BPF_K);
  EXPECT_EQ(ins[1].k, kAuditArchX86_64);
  EXPECT_EQ(ins[2].code, BPF_LD | BPF_W | BPF_ABS);
  EXPECT_EQ(ins[2].k, 0u);  // nr
  EXPECT_EQ(ins[3].code, BPF_JMP | BPF_JGE | BPF_K);
  EXPECT_EQ(ins[3].k, kX32SyscallBit);

  auto pfc = exportPseudoCode(profile({}));
  ASSERT_TRUE(pfc) << pfc.error().str();
  EXPECT_NE(pfc->find("# filter for arch x86_64"), std::string::npos) << *pfc;
  EXPECT_NE(pfc->find("# invalid architecture action\naction KILL_PROCESS;"), std::string::npos)
      << *pfc;
}

TEST(SeccompBackendTest, I386IsKilledByDefault) {
  auto filter = buildFilter(profile({}));
  ASSERT_TRUE(filter);
  for (int nr : {kGetpidI386, kPtraceI386, kSyslog, kStimeI386}) {
    EXPECT_EQ(run(*filter, kAuditArchI386, nr), SECCOMP_RET_KILL_PROCESS) << nr;
  }
  auto pfc = exportPseudoCode(profile({}));
  ASSERT_TRUE(pfc);
  EXPECT_EQ(pfc->find("# filter for arch x86 "), std::string::npos) << *pfc;
}

// With filter_i386, names resolve in the i386 table: ptrace is 26 there,
// while x86_64's 26 is msync and stays allowed.
TEST(SeccompBackendTest, I386RulesResolvePerArch) {
  auto filter = buildFilter(profile({rule("ptrace", SeccompAction::Errno, ENOTRECOVERABLE)}),
                            {.filter_i386 = true});
  ASSERT_TRUE(filter) << filter.error().str();
  EXPECT_EQ(run(*filter, kAuditArchI386, kPtraceI386), SECCOMP_RET_ERRNO | ENOTRECOVERABLE);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, kMsyncX86_64), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, kPtraceX86_64), SECCOMP_RET_ERRNO | ENOTRECOVERABLE);
  EXPECT_EQ(run(*filter, kAuditArchI386, kSyslog), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchX86_64, kSyslog), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchI386, kStimeI386), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchI386, kGetpidI386), SECCOMP_RET_ALLOW);
  // x32 stays killed when i386 is filtered.
  EXPECT_EQ(run(*filter, kAuditArchX86_64, static_cast<int>(kX32SyscallBit | SYS_getpid)),
            SECCOMP_RET_KILL_PROCESS);
}

TEST(SeccompBackendTest, OutputIsDeterministic) {
  std::vector<ir::SeccompRule> rules = {rule("ptrace", SeccompAction::Kill),
                                        rule("uname", SeccompAction::Log),
                                        rule("syslog", SeccompAction::Allow)};
  auto first = buildFilter(profile(rules));
  std::reverse(rules.begin(), rules.end());
  auto second = buildFilter(profile(rules));
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->bpf, second->bpf);
  EXPECT_EQ(first->lxc, second->lxc);
}

TEST(SeccompBackendTest, LxcPolicyHasSections) {
  auto filter = buildFilter(
      profile({rule("ptrace", SeccompAction::Kill, 0, "team.hoody:70"),
               rule("uname", SeccompAction::Log, 0, "team.hoody:71"),
               rule("reboot", SeccompAction::Errno, ENOTRECOVERABLE, "team.hoody:72")}));
  ASSERT_TRUE(filter);
  const std::string& lxc = filter->lxc;
  EXPECT_EQ(lxc.rfind("2\ndenylist\n", 0), 0u) << lxc;
  size_t x86_64 = lxc.find("\n[x86_64]\n");
  size_t x86 = lxc.find("\n[x86]\n");
  size_t x32 = lxc.find("\n[x32]\n");
  ASSERT_NE(x86_64, std::string::npos);
  ASSERT_NE(x86, std::string::npos);
  ASSERT_NE(x32, std::string::npos);
  EXPECT_LT(x86_64, x86);
  EXPECT_LT(x86, x32);

  std::string native = lxc.substr(x86_64, x86 - x86_64);
  EXPECT_NE(native.find("\nmount errno 1\n"), std::string::npos) << native;
  EXPECT_NE(native.find("\nclone3 errno 38\n"), std::string::npos);
  EXPECT_NE(native.find("\n# team.hoody:70\nptrace kill\n"), std::string::npos);
  EXPECT_NE(native.find("\n# team.hoody:72\nreboot errno 131\n"), std::string::npos);
  EXPECT_NE(native.find("\n# uname log: LXC has no log action, so the call is allowed\n"),
            std::string::npos);
  EXPECT_EQ(native.find("\nuname"), std::string::npos);
  EXPECT_NE(native.find("\nclone errno 1 [0,268435456,SCMP_CMP_MASKED_EQ,268435456]\n"),
            std::string::npos);
  // i386-only calls appear only in the i386 section.
  EXPECT_EQ(native.find("\nstime "), std::string::npos);
  std::string i386 = lxc.substr(x86, x32 - x86);
  EXPECT_NE(i386.find("\nstime errno 1\n"), std::string::npos) << i386;
  EXPECT_NE(i386.find("\nptrace kill\n"), std::string::npos);
  EXPECT_NE(lxc.substr(x32).find("\nptrace kill\n"), std::string::npos);
  // LXC treats a line as a comment only with `#` in the first column, and
  // an empty line as a rule.
  EXPECT_EQ(lxc.find("\n\n"), std::string::npos);
  EXPECT_EQ(lxc.back(), '\n');
}

TEST(SeccompBackendTest, PersonalityRulesFitTheKernelLimit) {
  auto filter = buildFilter(profile({}), {.filter_i386 = true});
  ASSERT_TRUE(filter) << filter.error().str();
  EXPECT_LE(filter->instructions, 4096u);
  EXPECT_EQ(run(*filter, kAuditArchI386, 136 /* i386 personality */, 0x0040000),
            SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(*filter, kAuditArchI386, 136, 0xffffffff), SECCOMP_RET_ALLOW);
}

}  // namespace
}  // namespace hoody::seccomp
