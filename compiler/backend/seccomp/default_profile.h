// SPDX-License-Identifier: Apache-2.0
// The default seccomp deny list: the system calls every container profile
// denies unless its policy allows them, each with the reason.
//
// The list sits on top of the container runtime's own profile: filters built
// from it allow every system call that is not listed. docs/seccomp.md
// restates both tables below, and a unit test keeps the page and the tables
// equal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hoody::seccomp {

/// Argument conditions of a default entry. An entry with conditions denies a
/// call only when one of them holds.
enum class ArgFilter : uint8_t {
  None,               ///< Every call is denied.
  CloneNamespaces,    ///< clone whose flags request a new namespace.
  UnshareNamespaces,  ///< unshare whose flags request a new namespace.
  Personality,        ///< personality with a persona outside kAllowedPersonas.
};

/// One entry of the default deny list.
struct DefaultDeny {
  std::string_view syscall;
  int errno_value = 0;  ///< EPERM, or ENOSYS where the caller should fall back.
  ArgFilter filter = ArgFilter::None;
  std::string_view reason;
};

/// A system call that was considered for the deny list and left allowed.
struct DefaultAllow {
  std::string_view syscall;
  std::string_view reason;
};

/// One masked comparison of a system call argument: it holds when
/// `(argument & mask) == value`.
struct MaskedArg {
  unsigned arg = 0;
  uint64_t mask = 0;
  uint64_t value = 0;
  friend bool operator==(const MaskedArg&, const MaskedArg&) = default;
};

/// Personas `personality` may set: PER_LINUX, PER_LINUX32, UNAME26, both of
/// the last two, and 0xffffffff, which only queries the current persona.
inline constexpr uint32_t kAllowedPersonas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/// The default deny list, sorted by system call name. Names follow
/// libseccomp; some exist only on i386 (e.g. `stime`) and apply where the
/// architecture has them.
std::span<const DefaultDeny> defaultDenyList();

/// System calls considered for the deny list and left allowed, sorted by name.
std::span<const DefaultAllow> defaultAllowNotes();

/// Returns the default entry for `syscall`, or nullptr.
const DefaultDeny* findDefaultDeny(std::string_view syscall);

/// Returns the conditions of `filter`; a call is denied when any of them
/// holds. Empty for ArgFilter::None, which denies every call. Conditions
/// compare the low 32 bits only, because the kernel reads these arguments as
/// 32-bit integers.
std::vector<MaskedArg> denyConditions(ArgFilter filter);

/// Describes what the entry does, e.g. `EPERM` or `ENOSYS`; used by
/// docs/seccomp.md.
std::string describeAction(const DefaultDeny& entry);

}  // namespace hoody::seccomp
