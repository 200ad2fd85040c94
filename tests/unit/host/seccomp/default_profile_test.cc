// SPDX-License-Identifier: Apache-2.0
// Tests of the default deny list: order, names, argument conditions, and
// agreement with docs/seccomp.md.
#include "compiler/backend/seccomp/default_profile.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <seccomp.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace hoody::seccomp {
namespace {

bool anyHolds(const std::vector<MaskedArg>& conditions, uint64_t arg0) {
  for (const MaskedArg& c : conditions) {
    EXPECT_EQ(c.arg, 0u);
    if ((arg0 & c.mask) == c.value) return true;
  }
  return false;
}

TEST(DefaultProfileTest, SortedAndUnique) {
  auto list = defaultDenyList();
  ASSERT_FALSE(list.empty());
  for (size_t i = 1; i < list.size(); ++i) {
    EXPECT_LT(list[i - 1].syscall, list[i].syscall) << "at entry " << i;
  }
  auto notes = defaultAllowNotes();
  for (size_t i = 1; i < notes.size(); ++i) EXPECT_LT(notes[i - 1].syscall, notes[i].syscall);
}

TEST(DefaultProfileTest, NamesExistOnX86) {
  for (const DefaultDeny& entry : defaultDenyList()) {
    std::string name(entry.syscall);
    int x86_64 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
    int i386 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name.c_str());
    EXPECT_TRUE(x86_64 >= 0 || i386 >= 0) << name << " exists on neither x86_64 nor i386";
    EXPECT_FALSE(entry.reason.empty()) << name;
    EXPECT_TRUE(entry.errno_value == EPERM || entry.errno_value == ENOSYS) << name;
  }
}

TEST(DefaultProfileTest, AllowNotesAreNotDenied) {
  for (const DefaultAllow& note : defaultAllowNotes()) {
    EXPECT_EQ(findDefaultDeny(note.syscall), nullptr) << note.syscall;
  }
}

TEST(DefaultProfileTest, FindsEntries) {
  const DefaultDeny* mount = findDefaultDeny("mount");
  ASSERT_NE(mount, nullptr);
  EXPECT_EQ(mount->errno_value, EPERM);
  const DefaultDeny* clone3 = findDefaultDeny("clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->errno_value, ENOSYS);
  EXPECT_EQ(findDefaultDeny("ptrace"), nullptr);
  EXPECT_EQ(findDefaultDeny("getpid"), nullptr);
  EXPECT_EQ(findDefaultDeny(""), nullptr);
}

TEST(DefaultProfileTest, CloneConditionsMatchNamespaceFlags) {
  auto conditions = denyConditions(ArgFilter::CloneNamespaces);
  EXPECT_EQ(conditions.size(), 7u);
  for (uint64_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                        CLONE_NEWPID, CLONE_NEWNET}) {
    EXPECT_TRUE(anyHolds(conditions, flag | SIGCHLD)) << std::hex << flag;
  }
  // fork() and pthread_create() flags, and the exit signal in the low byte.
  EXPECT_FALSE(anyHolds(conditions, SIGCHLD));
  EXPECT_FALSE(anyHolds(conditions, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                        CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                        CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID));
  EXPECT_FALSE(anyHolds(conditions, 0xff));
}

TEST(DefaultProfileTest, UnshareConditionsIncludeTime) {
  auto conditions = denyConditions(ArgFilter::UnshareNamespaces);
  EXPECT_TRUE(anyHolds(conditions, CLONE_NEWTIME));
  EXPECT_TRUE(anyHolds(conditions, CLONE_NEWUSER));
  EXPECT_FALSE(anyHolds(conditions, 0));
  EXPECT_FALSE(anyHolds(conditions, CLONE_FILES | CLONE_FS | CLONE_SYSVSEM));
}

TEST(DefaultProfileTest, PersonalityAllowsOnlyListedPersonas) {
  auto conditions = denyConditions(ArgFilter::Personality);
  for (uint32_t persona : kAllowedPersonas) {
    EXPECT_FALSE(anyHolds(conditions, persona)) << std::hex << persona;
  }
  // Neighbours of every allowed persona, flags that weaken the process, and
  // the top bit without the rest of the query value.
  std::set<uint64_t> denied = {1,         7,          9,          0x1ffff,   0x20001,
                               0x20007,   0x20009,    0xfffffffe, 0x0040000, 0x0400000,
                               0x0100000, 0x80000000, 0x80040000};
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) denied.insert(rng());
  std::set<uint64_t> allowed(std::begin(kAllowedPersonas), std::end(kAllowedPersonas));
  for (uint64_t value : denied) {
    if (allowed.count(value) != 0) continue;
    EXPECT_TRUE(anyHolds(conditions, value)) << std::hex << value;
  }
  // The kernel reads the persona as 32 bits, so the high half is ignored.
  EXPECT_FALSE(anyHolds(conditions, 0x100000000));
  EXPECT_TRUE(anyHolds(conditions, 0x100040000));
}

TEST(DefaultProfileTest, PersonalityBlocksCoverTheRest) {
  auto conditions = denyConditions(ArgFilter::Personality);
  uint64_t covered = 0;
  for (const MaskedArg& c : conditions) {
    uint64_t size = (~c.mask & 0xffffffffu) + 1;
    EXPECT_EQ(c.value % size, 0u) << "block at " << std::hex << c.value << " is not aligned";
    covered += size;
  }
  EXPECT_EQ(covered, (uint64_t{1} << 32) - std::size(kAllowedPersonas));
}

TEST(DefaultProfileTest, DescribesActions) {
  EXPECT_EQ(describeAction(*findDefaultDeny("reboot")), "EPERM");
  EXPECT_EQ(describeAction(*findDefaultDeny("clone3")), "ENOSYS");
  EXPECT_EQ(describeAction(*findDefaultDeny("unshare")),
            "EPERM when the flags request a new namespace");
}

// Splits a Markdown table row `| a | b | c |` into trimmed cells.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line.substr(1));
  std::string cell;
  while (std::getline(in, cell, '|')) {
    size_t first = cell.find_first_not_of(' ');
    size_t last = cell.find_last_not_of(' ');
    out.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  return out;
}

// Returns the rows of the table under the `## heading` of docs/seccomp.md
// whose first cell is a system call in backticks.
std::vector<std::vector<std::string>> docsTable(const std::string& heading) {
  std::ifstream in(std::string(HOODY_SOURCE_DIR) + "/docs/seccomp.md");
  EXPECT_TRUE(in.good()) << "docs/seccomp.md is missing";
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) inside = line == "## " + heading;
    if (inside && line.rfind("| `", 0) == 0) rows.push_back(cells(line));
  }
  return rows;
}

TEST(DefaultProfileTest, DocsListTheDenyList) {
  auto rows = docsTable("Denied by default");
  auto list = defaultDenyList();
  ASSERT_EQ(rows.size(), list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 3u) << "row " << i;
    EXPECT_EQ(rows[i][0], "`" + std::string(list[i].syscall) + "`");
    EXPECT_EQ(rows[i][1], describeAction(list[i])) << list[i].syscall;
    EXPECT_EQ(rows[i][2], list[i].reason) << list[i].syscall;
  }
}

TEST(DefaultProfileTest, DocsListTheAllowNotes) {
  auto rows = docsTable("Considered and allowed");
  auto notes = defaultAllowNotes();
  ASSERT_EQ(rows.size(), notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 2u) << "row " << i;
    EXPECT_EQ(rows[i][0], "`" + std::string(notes[i].syscall) + "`");
    EXPECT_EQ(rows[i][1], notes[i].reason) << notes[i].syscall;
  }
}

}  // namespace
}  // namespace hoody::seccomp
