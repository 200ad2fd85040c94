// SPDX-License-Identifier: Apache-2.0
// Loads exported seccomp filters into forked children and checks what the
// kernel does with real system calls.
//
// Safety: this test may run as root on a shared machine. Every probe uses
// arguments that fail, or only affect the disposable child, even when no
// filter is loaded: a reboot with wrong magic numbers, mounts with NULL
// paths, an unshare that changes only the child's namespaces. Each child is
// killed if it runs longer than kChildTimeout.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "compiler/backend/seccomp/bpf_eval.h"
#include "compiler/backend/seccomp/seccomp_backend.h"

namespace hoody::seccomp {
namespace {

using ir::SeccompAction;
using namespace std::chrono_literals;

constexpr auto kChildTimeout = 5s;

struct Outcome {
  enum class Kind { Returned, Signaled, LoadFailed, TimedOut, Lost };
  Kind kind = Kind::Lost;
  long ret = 0;
  int err = 0;
  int signal = 0;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  switch (o.kind) {
    case Outcome::Kind::Returned:
      return os << "returned " << o.ret << " errno " << o.err;
    case Outcome::Kind::Signaled:
      return os << "killed by signal " << o.signal;
    case Outcome::Kind::LoadFailed:
      return os << "filter load failed, errno " << o.err;
    case Outcome::Kind::TimedOut:
      return os << "timed out";
    case Outcome::Kind::Lost:
      return os << "no report from the child";
  }
  return os;
}

// What the child writes to the parent.
struct Report {
  bool loaded;
  long ret;
  int err;
};

using Probe = long (*)();

[[noreturn]] void childMain(const std::vector<sock_filter>& program, Probe probe, int out) {
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (!program.empty()) {
    sock_fprog fprog{static_cast<unsigned short>(program.size()),
                     const_cast<sock_filter*>(program.data())};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
      Report report{false, -1, errno};
      (void)!write(out, &report, sizeof report);
      _exit(3);
    }
  }
  errno = 0;
  long ret = probe();
  Report report{true, ret, errno};
  (void)!write(out, &report, sizeof report);
  _exit(0);
}

// Runs `probe` in a forked child after loading `bpf`; an empty `bpf` runs
// it unfiltered, as the baseline.
Outcome runInChild(const std::string& bpf, Probe probe) {
  std::vector<sock_filter> program(bpf.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bpf.data(), program.size() * sizeof(sock_filter));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {};
  }
  if (pid == 0) {
    close(fds[0]);
    childMain(program, probe, fds[1]);
  }
  close(fds[1]);

  Outcome outcome;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + kChildTimeout;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(fds[0]);
      outcome.kind = Outcome::Kind::TimedOut;
      return outcome;
    }
    std::this_thread::sleep_for(2ms);
  }
  Report report{};
  ssize_t n = read(fds[0], &report, sizeof report);
  close(fds[0]);
  if (WIFSIGNALED(status)) {
    outcome.kind = Outcome::Kind::Signaled;
    outcome.signal = WTERMSIG(status);
  } else if (n == static_cast<ssize_t>(sizeof report)) {
    outcome.kind = report.loaded ? Outcome::Kind::Returned : Outcome::Kind::LoadFailed;
    outcome.ret = report.ret;
    outcome.err = report.err;
  }
  return outcome;
}

// i386 system call through `int $0x80`. Returns like syscall(2): -1 with
// errno set on failure.
long int80(long nr, long a = 0, long b = 0, long c = 0) {
  long ret;
  asm volatile("int $0x80"
               : "=a"(ret)
               : "a"(nr), "b"(a), "c"(b), "d"(c)
               : "memory", "r8", "r9", "r10", "r11");
  if (ret < 0 && ret > -4096) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
}

constexpr long kX32 = kX32SyscallBit;
constexpr long kSyslogActionSizeBuffer = 10;

// Probes. Each one is harmless without a filter, and its comment gives
// the result without a filter.
long probeGetpid() { return syscall(SYS_getpid) == getpid() ? 0 : -1; }
long probeWrite() {  // Writes one byte to /dev/null: 1.
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return fd < 0 ? -2 : syscall(SYS_write, fd, "x", 1);
}
long probeReboot() { return syscall(SYS_reboot, 0, 0, 0, nullptr); }  // EINVAL: wrong magic.
long probeSwapon() { return syscall(SYS_swapon, nullptr, 0); }        // EFAULT.
long probeMount() { return syscall(SYS_mount, nullptr, nullptr, nullptr, 0, nullptr); }  // EFAULT.
long probeUmount2() { return syscall(SYS_umount2, nullptr, 0); }                         // EFAULT.
long probeInitModule() { return syscall(SYS_init_module, nullptr, 0, ""); }  // No image: fails.
long probeBpf() { return syscall(SYS_bpf, -1, nullptr, 0); }  // EINVAL: no command -1.
long probeSyslog() { return syscall(SYS_syslog, kSyslogActionSizeBuffer, nullptr, 0); }  // Size.
long probeUnshareUts() { return syscall(SYS_unshare, CLONE_NEWUTS); }  // The child's own UTS.
long probeUnshareNone() { return syscall(SYS_unshare, 0); }            // 0: no change.
long probeClone3() { return syscall(SYS_clone3, nullptr, 0); }         // EINVAL: size 0.
long probePtrace() { return syscall(SYS_ptrace, -1L, 0, 0, 0); }       // ESRCH: no pid 0.
long probeGetppid() { return syscall(SYS_getppid); }
long probePersonaNoRandom() { return syscall(SYS_personality, ADDR_NO_RANDOMIZE); }
long probePersonaHighBit() { return syscall(SYS_personality, 0x80000000 | ADDR_NO_RANDOMIZE); }
long probePersonaQuery() { return syscall(SYS_personality, 0xffffffff); }
// A clone that would create a child in a new user namespace; if it ran, the
// new process leaves at once.
long probeCloneUserns() {
  long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r > 0) waitpid(static_cast<pid_t>(r), nullptr, 0);
  return r;
}
long probeFork() {  // A plain fork through clone: the child pid.
  long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r > 0) waitpid(static_cast<pid_t>(r), nullptr, 0);
  return r;
}
long probeX32Getpid() { return syscall(kX32 | SYS_getpid); }
long probeX32Reboot() { return syscall(kX32 | SYS_reboot, 0, 0, 0, 0); }  // EINVAL if it ran.
long probeI386Getpid() { return int80(20) == getpid() ? 0 : -1; }
long probeI386Syslog() { return int80(103, kSyslogActionSizeBuffer); }  // i386 syslog: size.
long probeI386Ptrace() { return int80(26, -1); }                        // i386 ptrace: ESRCH.

volatile sig_atomic_t g_trapped_nr = -1;
void onSigsys(int, siginfo_t* info, void*) { g_trapped_nr = info->si_syscall; }
// Returns the system call number a SIGSYS handler saw, or -1.
long probeTrappedGetppid() {
  struct sigaction action {};
  action.sa_sigaction = onSigsys;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &action, nullptr);
  syscall(SYS_getppid);
  return g_trapped_nr;
}

ir::SeccompProfile profile(std::vector<ir::SeccompRule> rules) {
  return ir::SeccompProfile{"test", std::move(rules)};
}

ir::SeccompRule rule(std::string syscall, SeccompAction action, int errno_value = 0) {
  return ir::SeccompRule{std::move(syscall), action, errno_value, "load_test.hoody:1"};
}

class SeccompLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto filter = buildFilter(profile({}));
    ASSERT_TRUE(filter) << filter.error().str();
    default_bpf_ = filter->bpf;
    Outcome probe = runInChild(default_bpf_, probeGetpid);
    if (probe.kind == Outcome::Kind::LoadFailed) {
      GTEST_SKIP() << "this kernel does not load seccomp filters: " << strerror(probe.err);
    }
    ASSERT_EQ(probe.kind, Outcome::Kind::Returned) << probe;
  }

  // Checks that `probe` fails with `expected` under `bpf`, and, when the
  // test runs as root, that it fails differently without a filter, so the
  // errno must come from the filter.
  void expectErrno(const std::string& bpf, Probe probe, int expected, const char* name) {
    Outcome filtered = runInChild(bpf, probe);
    ASSERT_EQ(filtered.kind, Outcome::Kind::Returned) << name << ": " << filtered;
    EXPECT_EQ(filtered.ret, -1) << name;
    EXPECT_EQ(filtered.err, expected) << name << ": " << strerror(filtered.err);
    if (geteuid() == 0) {
      Outcome baseline = runInChild("", probe);
      ASSERT_EQ(baseline.kind, Outcome::Kind::Returned) << name << " unfiltered: " << baseline;
      EXPECT_FALSE(baseline.ret == -1 && baseline.err == expected)
          << name << " fails with the same errno without a filter, so the check proves nothing";
    }
  }

  void expectKilled(const std::string& bpf, Probe probe, const char* name) {
    Outcome outcome = runInChild(bpf, probe);
    ASSERT_EQ(outcome.kind, Outcome::Kind::Signaled) << name << ": " << outcome;
    EXPECT_EQ(outcome.signal, SIGSYS) << name;
  }

  // Returns true when this kernel runs i386 system calls from 64-bit code.
  bool i386Works() {
    Outcome baseline = runInChild("", probeI386Getpid);
    return baseline.kind == Outcome::Kind::Returned && baseline.ret == 0;
  }

  std::string default_bpf_;
};

TEST_F(SeccompLoadTest, AllowedCallsWork) {
  Outcome getpid_outcome = runInChild(default_bpf_, probeGetpid);
  ASSERT_EQ(getpid_outcome.kind, Outcome::Kind::Returned) << getpid_outcome;
  EXPECT_EQ(getpid_outcome.ret, 0);
  Outcome write_outcome = runInChild(default_bpf_, probeWrite);
  ASSERT_EQ(write_outcome.kind, Outcome::Kind::Returned) << write_outcome;
  EXPECT_EQ(write_outcome.ret, 1);
  Outcome fork_outcome = runInChild(default_bpf_, probeFork);
  ASSERT_EQ(fork_outcome.kind, Outcome::Kind::Returned) << fork_outcome;
  EXPECT_GT(fork_outcome.ret, 0);
  Outcome unshare_outcome = runInChild(default_bpf_, probeUnshareNone);
  ASSERT_EQ(unshare_outcome.kind, Outcome::Kind::Returned) << unshare_outcome;
  EXPECT_EQ(unshare_outcome.ret, 0);
  Outcome query = runInChild(default_bpf_, probePersonaQuery);
  ASSERT_EQ(query.kind, Outcome::Kind::Returned) << query;
  EXPECT_GE(query.ret, 0);
}

TEST_F(SeccompLoadTest, DefaultListReturnsEperm) {
  expectErrno(default_bpf_, probeReboot, EPERM, "reboot");
  expectErrno(default_bpf_, probeSwapon, EPERM, "swapon");
  expectErrno(default_bpf_, probeMount, EPERM, "mount");
  expectErrno(default_bpf_, probeUmount2, EPERM, "umount2");
  expectErrno(default_bpf_, probeInitModule, EPERM, "init_module");
  expectErrno(default_bpf_, probeBpf, EPERM, "bpf");
  expectErrno(default_bpf_, probeSyslog, EPERM, "syslog");
  expectErrno(default_bpf_, probeUnshareUts, EPERM, "unshare(CLONE_NEWUTS)");
  expectErrno(default_bpf_, probePersonaNoRandom, EPERM, "personality(ADDR_NO_RANDOMIZE)");
  expectErrno(default_bpf_, probePersonaHighBit, EPERM, "personality(0x80040000)");
}

TEST_F(SeccompLoadTest, NamespaceClonesAreDenied) {
  Outcome outcome = runInChild(default_bpf_, probeCloneUserns);
  ASSERT_EQ(outcome.kind, Outcome::Kind::Returned) << outcome;
  EXPECT_EQ(outcome.ret, -1);
  EXPECT_EQ(outcome.err, EPERM);
  expectErrno(default_bpf_, probeClone3, ENOSYS, "clone3");
}

TEST_F(SeccompLoadTest, CustomErrnoOverridesDefault) {
  auto filter = buildFilter(profile({rule("reboot", SeccompAction::Errno, ENOTRECOVERABLE),
                                     rule("ptrace", SeccompAction::Errno, EHWPOISON)}));
  ASSERT_TRUE(filter) << filter.error().str();
  expectErrno(filter->bpf, probeReboot, ENOTRECOVERABLE, "reboot");
  expectErrno(filter->bpf, probePtrace, EHWPOISON, "ptrace");
}

TEST_F(SeccompLoadTest, KillEndsTheProcess) {
  auto filter = buildFilter(profile({rule("getppid", SeccompAction::Kill)}));
  ASSERT_TRUE(filter) << filter.error().str();
  expectKilled(filter->bpf, probeGetppid, "getppid");
}

TEST_F(SeccompLoadTest, TrapRaisesSigsys) {
  auto filter = buildFilter(profile({rule("getppid", SeccompAction::Trap)}));
  ASSERT_TRUE(filter) << filter.error().str();
  Outcome outcome = runInChild(filter->bpf, probeTrappedGetppid);
  ASSERT_EQ(outcome.kind, Outcome::Kind::Returned) << outcome;
  EXPECT_EQ(outcome.ret, SYS_getppid);
}

TEST_F(SeccompLoadTest, AllowAndLogLiftDefaults) {
  auto allow = buildFilter(profile({rule("syslog", SeccompAction::Allow)}));
  ASSERT_TRUE(allow) << allow.error().str();
  Outcome allowed = runInChild(allow->bpf, probeSyslog);
  ASSERT_EQ(allowed.kind, Outcome::Kind::Returned) << allowed;
  EXPECT_GT(allowed.ret, 0) << allowed;

  auto log = buildFilter(profile({rule("syslog", SeccompAction::Log)}));
  ASSERT_TRUE(log) << log.error().str();
  Outcome logged = runInChild(log->bpf, probeSyslog);
  ASSERT_EQ(logged.kind, Outcome::Kind::Returned) << logged;
  EXPECT_GT(logged.ret, 0) << logged;
}

TEST_F(SeccompLoadTest, X32CallsAreKilled) {
  // Without a filter this kernel either runs them (x32 support) or returns
  // ENOSYS; with one, the process dies whatever the call.
  expectKilled(default_bpf_, probeX32Getpid, "x32 getpid");
  expectKilled(default_bpf_, probeX32Reboot, "x32 reboot");
}

TEST_F(SeccompLoadTest, I386CallsAreKilled) {
  if (!i386Works())
    GTEST_SKIP() << "this kernel does not run i386 system calls (no IA32 emulation)";
  expectKilled(default_bpf_, probeI386Getpid, "i386 getpid");
}

TEST_F(SeccompLoadTest, I386CallsAreFilteredWhenAsked) {
  if (!i386Works())
    GTEST_SKIP() << "this kernel does not run i386 system calls (no IA32 emulation)";
  auto filter = buildFilter(profile({rule("ptrace", SeccompAction::Errno, EHWPOISON)}),
                            {.filter_i386 = true});
  ASSERT_TRUE(filter) << filter.error().str();
  Outcome getpid_outcome = runInChild(filter->bpf, probeI386Getpid);
  ASSERT_EQ(getpid_outcome.kind, Outcome::Kind::Returned) << getpid_outcome;
  EXPECT_EQ(getpid_outcome.ret, 0);
  expectErrno(filter->bpf, probeI386Syslog, EPERM, "i386 syslog");
  expectErrno(filter->bpf, probeI386Ptrace, EHWPOISON, "i386 ptrace");
  expectKilled(filter->bpf, probeX32Getpid, "x32 getpid");
}

}  // namespace
}  // namespace hoody::seccomp
