// SPDX-License-Identifier: Apache-2.0
// The default seccomp deny list and the argument conditions of its entries.
#include "compiler/backend/seccomp/default_profile.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include <algorithm>
#include <iterator>

namespace hoody::seccomp {
namespace {

constexpr int kPerm = EPERM;

// Sorted by name; a unit test checks the order, the names against
// libseccomp and the copy in docs/seccomp.md.
constexpr DefaultDeny kDenyList[] = {
    {"acct", kPerm, ArgFilter::None, "turns process accounting on or off for the whole host"},
    {"add_key", kPerm, ArgFilter::None,
     "kernel keyrings are not namespaced, so keys would be shared across containers"},
    {"adjtimex", kPerm, ArgFilter::None, "tunes the host clock, which is not namespaced"},
    {"bpf", kPerm, ArgFilter::None,
     "loads eBPF programs into the host kernel, a large attack surface"},
    {"clock_adjtime", kPerm, ArgFilter::None, "tunes the host clock, which is not namespaced"},
    {"clock_settime", kPerm, ArgFilter::None, "sets the host clock, which is not namespaced"},
    {"clone", kPerm, ArgFilter::CloneNamespaces,
     "new namespaces, user namespaces above all, expose kernel code otherwise reserved for root"},
    {"clone3", ENOSYS, ArgFilter::None,
     "its flags are in memory, where seccomp cannot read them; ENOSYS makes the C library "
     "fall back to clone, whose flags are checked"},
    {"delete_module", kPerm, ArgFilter::None, "unloads kernel modules from the host"},
    {"finit_module", kPerm, ArgFilter::None, "loads kernel modules into the host"},
    {"fsconfig", kPerm, ArgFilter::None, "part of the new mount API; mounts are denied"},
    {"fsmount", kPerm, ArgFilter::None, "part of the new mount API; mounts are denied"},
    {"fsopen", kPerm, ArgFilter::None, "part of the new mount API; mounts are denied"},
    {"fspick", kPerm, ArgFilter::None, "part of the new mount API; mounts are denied"},
    {"init_module", kPerm, ArgFilter::None, "loads kernel modules into the host"},
    {"io_uring_enter", kPerm, ArgFilter::None,
     "io_uring has been the source of many kernel privilege escalations; programs fall back "
     "to ordinary I/O"},
    {"io_uring_register", kPerm, ArgFilter::None,
     "io_uring has been the source of many kernel privilege escalations; programs fall back "
     "to ordinary I/O"},
    {"io_uring_setup", kPerm, ArgFilter::None,
     "io_uring has been the source of many kernel privilege escalations; programs fall back "
     "to ordinary I/O"},
    {"ioperm", kPerm, ArgFilter::None, "grants direct access to hardware I/O ports"},
    {"iopl", kPerm, ArgFilter::None, "grants direct access to all hardware I/O ports"},
    {"kexec_file_load", kPerm, ArgFilter::None, "replaces the running host kernel"},
    {"kexec_load", kPerm, ArgFilter::None, "replaces the running host kernel"},
    {"keyctl", kPerm, ArgFilter::None,
     "kernel keyrings are not namespaced, so keys would be shared across containers"},
    {"lookup_dcookie", kPerm, ArgFilter::None, "profiling interface that reveals host file paths"},
    {"modify_ldt", kPerm, ArgFilter::None,
     "16-bit segments are only needed by legacy code and have a history of kernel bugs"},
    {"mount", kPerm, ArgFilter::None,
     "mounts can hide or expose host files and reach file system code for crafted images"},
    {"mount_setattr", kPerm, ArgFilter::None, "changes mount flags, e.g. removes read-only"},
    {"move_mount", kPerm, ArgFilter::None, "part of the new mount API; mounts are denied"},
    {"name_to_handle_at", kPerm, ArgFilter::None,
     "returns file handles, whose only use is open_by_handle_at"},
    {"nfsservctl", kPerm, ArgFilter::None, "removed NFS server interface"},
    {"open_by_handle_at", kPerm, ArgFilter::None,
     "opens files by handle past the container's root directory, a known container breakout"},
    {"open_tree", kPerm, ArgFilter::None, "part of the new mount API; mounts are denied"},
    {"perf_event_open", kPerm, ArgFilter::None,
     "performance counters leak host activity and have a history of kernel bugs"},
    {"personality", kPerm, ArgFilter::Personality,
     "other personas switch off address space randomization or make data executable"},
    {"pivot_root", kPerm, ArgFilter::None, "changes the root file system"},
    {"quotactl", kPerm, ArgFilter::None, "changes disk quotas of host file systems"},
    {"quotactl_fd", kPerm, ArgFilter::None, "changes disk quotas of host file systems"},
    {"reboot", kPerm, ArgFilter::None, "reboots or halts the host, or enables Ctrl-Alt-Del"},
    {"request_key", kPerm, ArgFilter::None,
     "kernel keyrings are not namespaced, so keys would be shared across containers"},
    {"setns", kPerm, ArgFilter::None, "joins other namespaces"},
    {"settimeofday", kPerm, ArgFilter::None, "sets the host clock, which is not namespaced"},
    {"stime", kPerm, ArgFilter::None, "sets the host clock, which is not namespaced (i386 only)"},
    {"swapoff", kPerm, ArgFilter::None, "changes the host's swap devices"},
    {"swapon", kPerm, ArgFilter::None, "changes the host's swap devices"},
    {"syslog", kPerm, ArgFilter::None,
     "reads the host kernel log, which leaks kernel addresses and other containers' events"},
    {"umount", kPerm, ArgFilter::None,
     "unmounting can expose files that a mount hides (i386 only)"},
    {"umount2", kPerm, ArgFilter::None, "unmounting can expose files that a mount hides"},
    {"unshare", kPerm, ArgFilter::UnshareNamespaces,
     "new namespaces, user namespaces above all, expose kernel code otherwise reserved for root"},
    {"uselib", kPerm, ArgFilter::None, "obsolete loader for a.out libraries"},
    {"userfaultfd", kPerm, ArgFilter::None,
     "lets a process stall the kernel inside a page fault, a common exploit aid"},
    {"vhangup", kPerm, ArgFilter::None, "hangs up the controlling terminal"},
    {"vm86", kPerm, ArgFilter::None, "virtual 8086 mode, legacy code only (i386 only)"},
    {"vm86old", kPerm, ArgFilter::None, "virtual 8086 mode, legacy code only (i386 only)"},
};

constexpr DefaultAllow kAllowNotes[] = {
    {"process_vm_readv",
     "the kernel applies the ptrace access check, so it reaches no process ptrace cannot"},
    {"process_vm_writev",
     "the kernel applies the ptrace access check, so it reaches no process ptrace cannot"},
    {"ptrace",
     "debuggers need it, and since Linux 4.8 seccomp checks again after a tracer changes a "
     "system call; policies that want it denied write `deny ptrace`"},
};

// Namespace flags of clone. CLONE_NEWTIME (0x80) is left out because clone
// reads the low byte of its flags as the exit signal.
constexpr uint64_t kCloneNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                             CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                             CLONE_NEWNET};

std::vector<MaskedArg> flagConditions(std::span<const uint64_t> flags) {
  std::vector<MaskedArg> conditions;
  for (uint64_t flag : flags) conditions.push_back({0, flag, flag});
  return conditions;
}

// Covers [first, last] of the 32-bit range with aligned power-of-two blocks,
// one masked comparison each. libseccomp allows one comparison per argument
// in a rule, so a range becomes several rules.
void addRangeConditions(uint64_t first, uint64_t last, std::vector<MaskedArg>& out) {
  while (first <= last) {
    uint64_t size = 1;
    while (size < (uint64_t{1} << 32) && first % (size * 2) == 0 && first + size * 2 - 1 <= last) {
      size *= 2;
    }
    out.push_back({0, 0xffffffffu & ~(size - 1), first});
    first += size;
  }
}

// Denies every 32-bit persona that kAllowedPersonas does not list.
std::vector<MaskedArg> personalityConditions() {
  std::vector<MaskedArg> conditions;
  uint64_t next = 0;
  for (uint32_t allowed : kAllowedPersonas) {
    if (allowed > next) addRangeConditions(next, allowed - 1, conditions);
    next = uint64_t{allowed} + 1;
  }
  if (next <= 0xffffffffu) addRangeConditions(next, 0xffffffffu, conditions);
  return conditions;
}

}  // namespace

std::span<const DefaultDeny> defaultDenyList() { return kDenyList; }

std::span<const DefaultAllow> defaultAllowNotes() { return kAllowNotes; }

const DefaultDeny* findDefaultDeny(std::string_view syscall) {
  auto it = std::lower_bound(
      std::begin(kDenyList), std::end(kDenyList), syscall,
      [](const DefaultDeny& e, std::string_view name) { return e.syscall < name; });
  if (it == std::end(kDenyList) || it->syscall != syscall) return nullptr;
  return &*it;
}

std::vector<MaskedArg> denyConditions(ArgFilter filter) {
  switch (filter) {
    case ArgFilter::None:
      return {};
    case ArgFilter::CloneNamespaces:
      return flagConditions(kCloneNamespaceFlags);
    case ArgFilter::UnshareNamespaces: {
      std::vector<MaskedArg> conditions = flagConditions(kCloneNamespaceFlags);
      conditions.push_back({0, CLONE_NEWTIME, CLONE_NEWTIME});
      return conditions;
    }
    case ArgFilter::Personality:
      return personalityConditions();
  }
  return {};
}

std::string describeAction(const DefaultDeny& entry) {
  const char* name = strerrorname_np(entry.errno_value);
  std::string action = name != nullptr ? name : std::to_string(entry.errno_value);
  switch (entry.filter) {
    case ArgFilter::None:
      break;
    case ArgFilter::CloneNamespaces:
    case ArgFilter::UnshareNamespaces:
      action += " when the flags request a new namespace";
      break;
    case ArgFilter::Personality:
      action += " for personas other than 0x0, 0x8, 0x20000, 0x20008 and the query 0xffffffff";
      break;
  }
  return action;
}

}  // namespace hoody::seccomp
