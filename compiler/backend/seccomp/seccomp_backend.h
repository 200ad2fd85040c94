// SPDX-License-Identifier: Apache-2.0
// The seccomp back end: a profile of the host IR -> a classic BPF filter
// (libseccomp) and an LXC seccomp policy file.
//
// A filter allows every system call by default: it is a deny list on top of
// the container runtime's own profile. The default deny list
// (default_profile.h) returns EPERM, then the profile's rules change it in
// order: `allow` removes an entry, the other actions replace it.
//
// Architectures, all handled explicitly:
//   - x86_64 system calls are filtered by the rules.
//   - x32 system calls (x86_64 architecture, __X32_SYSCALL_BIT set in the
//     number) kill the process. libseccomp 2.5.4 emits that check for an
//     x86_64 filter without the x32 architecture; buildFilter runs the
//     exported program to make sure it is there.
//   - i386 system calls (`int $0x80`, 32-bit programs) kill the process, as
//     the bad-architecture action, unless FilterOptions::filter_i386 is set.
//     With it, i386 calls are filtered by the same rules, each name resolved
//     in the i386 system call table.
//   - Every other architecture kills the process.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/backend/seccomp/default_profile.h"
#include "runtime/abi/host_ir.h"
#include "runtime/abi/result.h"

namespace hoody::seccomp {

struct FilterOptions {
  /// Filter i386 system calls with the profile's rules instead of killing
  /// the process. Off by default: the containers run 64-bit programs, and
  /// the i386 entry points are a second system call table to get right.
  bool filter_i386 = false;
};

struct SeccompFilter {
  std::string name;  ///< The profile's name.
  std::string bpf;   ///< struct sock_filter[] in host byte order, for SECCOMP_SET_MODE_FILTER.
  std::string lxc;   ///< LXC seccomp policy, version 2, for lxc.seccomp.profile.
  size_t instructions = 0;
};

/// A rule of a profile after the default list and the profile's rules are
/// merged.
struct EffectiveRule {
  std::string syscall;
  ir::SeccompAction action = ir::SeccompAction::Errno;  ///< Never Allow.
  int errno_value = 0;                                  ///< For Errno.
  std::vector<MaskedArg> conditions;  ///< Empty: every call; else any one of them.
  std::string origin;                 ///< `file:line`, or `default list`.
};

/// Merges the default deny list with the profile's rules, sorted by system
/// call name. Error codes: "unknown-syscall" (libseccomp has no such name
/// on x86_64, or the call exists neither on x86_64 nor on i386; the message
/// names the call and the rule's origin) and "invalid-errno" (outside
/// 1..4095).
Result<std::vector<EffectiveRule>> effectiveRules(const ir::SeccompProfile& profile);

/// Builds the filter of `profile`. Output is deterministic: the same profile
/// and options give the same bytes. Error codes: those of effectiveRules,
/// "seccomp-error" (libseccomp failed), "filter-too-long" (more than 4096
/// instructions, the kernel's limit) and "filter-check-failed" (the exported
/// program does not return the rules' actions).
Result<SeccompFilter> buildFilter(const ir::SeccompProfile& profile,
                                  const FilterOptions& options = {});

/// Returns libseccomp's pseudo-code (PFC) listing of the filter, for people
/// reading it. libseccomp 2.5.4 leaves the x32 check out of this listing
/// although the BPF contains it.
Result<std::string> exportPseudoCode(const ir::SeccompProfile& profile,
                                     const FilterOptions& options = {});

/// Renders `rules` as an LXC seccomp policy (version 2, denylist). LXC adds
/// the i386 and x32 architectures itself and cannot reject them as a whole,
/// so each rule is written for [x86_64], [x86] and [x32] wherever the call
/// exists. LXC has no `log` action: such calls are left allowed, with a
/// comment. LXC's `kill` ends the calling thread, not the whole process as
/// the BPF filter does.
std::string renderLxcPolicy(std::string_view profile_name, const std::vector<EffectiveRule>& rules);

}  // namespace hoody::seccomp
