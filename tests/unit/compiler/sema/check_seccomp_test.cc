// SPDX-License-Identifier: Apache-2.0
// Tests of seccomp checks and container states.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

driver::FrontEndOutput checkContainer(const std::string& body) {
  return check(inProject("permissions { default allow http }\n" + container("a", kContainerA, body)));
}

TEST(CheckSeccompTest, ValidProfile) {
  auto out = checkContainer(
      "seccomp default { deny ptrace; deny mount, umount2 errno EPERM; kill kexec_load; log bpf; "
      "allow personality; trap swapon }");
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckSeccompTest, UnknownAction) {
  auto out = checkContainer("seccomp { kil ptrace }");
  const auto& d = only(out, "unknown-seccomp-action");
  EXPECT_EQ(d.message, "`kil` is not a seccomp action");
  EXPECT_EQ(d.help.rfind("did you mean `kill`?", 0), 0u);
}

TEST(CheckSeccompTest, ErrnoOnlyOnDeny) {
  auto out = checkContainer("seccomp { kill ptrace errno EPERM }");
  EXPECT_EQ(only(out, "invalid-seccomp-rule").message, "`errno` applies to `deny` rules, not to `kill`");
}

TEST(CheckSeccompTest, UnknownErrno) {
  auto out = checkContainer("seccomp { deny ptrace errno EPREM }");
  const auto& d = only(out, "unknown-errno");
  EXPECT_EQ(d.message, "`EPREM` is not an errno name");
  EXPECT_EQ(d.help, "did you mean `EPERM`?");
}

TEST(CheckSeccompTest, InvalidSyscallName) {
  auto out = checkContainer("seccomp { deny Ptrace, 101 }");
  EXPECT_EQ(countCode(out, "invalid-syscall"), 2u);
}

TEST(CheckSeccompTest, ConflictingActions) {
  auto out = checkContainer("seccomp { deny ptrace\n allow ptrace }");
  EXPECT_EQ(only(out, "conflicting-seccomp-rule").message,
            "system call `ptrace` is already given the action `deny` at line 5");
}

TEST(CheckSeccompTest, UnknownBaseProfile) {
  auto out = checkContainer("seccomp strict { deny ptrace }");
  EXPECT_EQ(only(out, "unknown-name").message, "seccomp profile `strict` is not defined");
}

TEST(CheckStatesTest, MaintenanceAndActiveAreStates) {
  EXPECT_TRUE(checkContainer("state maintenance").ok);
  EXPECT_TRUE(checkContainer("state active").ok);
}

TEST(CheckStatesTest, UnknownStateSuggestsClosest) {
  auto out = checkContainer("state maintenence");
  const auto& d = only(out, "invalid-state");
  EXPECT_EQ(d.message, "`maintenence` is not a container state");
  EXPECT_EQ(d.help.rfind("did you mean `maintenance`?", 0), 0u);
}

}  // namespace
}  // namespace hoody::testing
