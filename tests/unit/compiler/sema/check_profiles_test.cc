// SPDX-License-Identifier: Apache-2.0
// Tests of profile rules: profile-default-allow, profile-unrestricted-operator,
// absent-permissions, invalid-profile-setting and profile-cycle.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

const std::string kBearer = "bearer sha256:\"" + std::string(64, 'c') + "\"";

TEST(CheckProfilesTest, ProductionRejectsOperatorDefault) {
  auto out = check(inProject("permissions { default allow }\n" + container("a", kContainerA),
                             "production"));
  const auto& d = only(out, "profile-default-allow");
  EXPECT_EQ(d.severity, diag::Severity::Error);
  EXPECT_NE(d.message.find("under profile `production`"), std::string::npos);
  EXPECT_FALSE(out.ok);
}

TEST(CheckProfilesTest, ProductionAllowsDefaultForPublicSurfaces) {
  auto out = check(inProject("permissions { default allow http, exec }\n" +
                             container("a", kContainerA), "production"));
  EXPECT_EQ(countCode(out, "profile-default-allow"), 0u);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckProfilesTest, ProductionCoversContainerBlocks) {
  auto out = check(inProject("permissions { default deny http }\n" +
                             container("a", kContainerA, "permissions { default allow terminal }"),
                             "production"));
  EXPECT_EQ(only(out, "profile-default-allow").message,
            "the default of container `a` allows the operator surface `terminal` to everyone "
            "under profile `production`");
}

TEST(CheckProfilesTest, ProductionRejectsOpenOperatorGroup) {
  auto out = check(inProject("permissions { group anyone { allow files } }\n" +
                             container("a", kContainerA), "production"));
  EXPECT_EQ(only(out, "profile-default-allow").severity, diag::Severity::Error);
}

TEST(CheckProfilesTest, ProductionWarnsWithoutIp) {
  auto out = check(inProject("permissions { group ops { " + kBearer + "; allow terminal } }\n" +
                             container("a", kContainerA), "production"));
  const auto& d = only(out, "profile-unrestricted-operator");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message, "group `ops` grants the operator surface `terminal` from any address under "
                       "profile `production`");
}

TEST(CheckProfilesTest, TeamWarnsOnDefaultAllow) {
  auto out = check(inProject("permissions { default allow }\n" + container("a", kContainerA)));
  EXPECT_EQ(only(out, "profile-default-allow").severity, diag::Severity::Warning);
  EXPECT_TRUE(out.ok);
}

TEST(CheckProfilesTest, OpenIsLenient) {
  auto out = check(inProject("permissions { default allow }\n" + container("a", kContainerA), "open"));
  EXPECT_EQ(countCode(out, "profile-default-allow"), 0u);
}

TEST(CheckProfilesTest, CustomProfileFollowsItsBase) {
  std::string text = std::string("realm r { profile strict { base production; disk_encryption "
                                 "required; snapshots daily }\n project p id ") +
                     kProjectId + " { profile strict\n permissions { default allow }\n" +
                     container("a", kContainerA) + " } }\n";
  auto out = check(text);
  EXPECT_EQ(only(out, "profile-default-allow").severity, diag::Severity::Error);
}

TEST(CheckProfilesTest, InvalidCustomProfileSettings) {
  auto out = check("realm r { profile strict { base production; disk_encryption maybe; snapshots "
                   "monthly } }\n");
  auto errors = withCode(out, "invalid-profile-setting");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0]->message, "`maybe` is not a value of `disk_encryption`");
}

TEST(CheckProfilesTest, ProfileCycle) {
  auto out = check("realm r { profile a { base b }\n profile b { base a } }\n");
  EXPECT_EQ(countCode(out, "profile-cycle"), 2u) << rendered(out);
}

TEST(CheckProfilesTest, AbsentProjectPermissionsGetANote) {
  auto out = check(inProject(container("a", kContainerA)));
  const auto& d = only(out, "absent-permissions");
  EXPECT_EQ(d.severity, diag::Severity::Note);
  EXPECT_EQ(d.message, "project `p` has no permissions block, so its containers without their "
                       "own block deny every request");
  EXPECT_TRUE(out.ok);
}

TEST(CheckProfilesTest, NoNoteWhenNothingInherits) {
  auto out = check(inProject(container("a", kContainerA, "permissions { default allow http }")));
  EXPECT_EQ(countCode(out, "absent-permissions"), 0u);
}

}  // namespace
}  // namespace hoody::testing
