// SPDX-License-Identifier: Apache-2.0
// Tests of group checks: empty-group and unreachable-service. Empty never
// means everyone: an empty block denies and gets a warning.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

TEST(CheckGroupsTest, GroupWithoutConditionsMatchesEveryone) {
  auto out = check(inProject("permissions { group anyone { allow http } }\n" +
                             container("a", kContainerA)));
  const auto& d = only(out, "empty-group");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message, "group `anyone` has no conditions, so it matches every client");
}

TEST(CheckGroupsTest, GroupWithoutGrants) {
  auto out = check(inProject("permissions { group ops { ip 192.0.2.0/24 }\n group web { ip "
                             "198.51.100.0/24; allow http } }\n" +
                             container("a", kContainerA)));
  EXPECT_EQ(only(out, "unreachable-service").message, "group `ops` grants no service");
}

TEST(CheckGroupsTest, EmptyContainerBlockWarnsThatNobodyCanReachIt) {
  auto out = check(inProject("permissions { default allow http }\n" +
                             container("a", kContainerA, "permissions { }")));
  const auto& d = only(out, "unreachable-service");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message,
            "this permissions block grants nothing, so nobody can reach container `a`; an empty "
            "block means nobody");
  EXPECT_TRUE(out.ok);
}

TEST(CheckGroupsTest, EmptyProjectBlockWarns) {
  auto out = check(inProject("permissions { default deny }\n" + container("a", kContainerA)));
  EXPECT_NE(only(out, "unreachable-service").message.find("containers of project `p`"),
            std::string::npos);
}

TEST(CheckGroupsTest, BlockWhoseGroupsGrantNothingWarns) {
  auto out = check(inProject("permissions { group ops { ip 192.0.2.0/24 } }\n" +
                             container("a", kContainerA)));
  EXPECT_EQ(countCode(out, "unreachable-service"), 2u) << rendered(out);
}

}  // namespace
}  // namespace hoody::testing
