// SPDX-License-Identifier: Apache-2.0
// Tests of profile rules: profile-default-allow, profile-unrestricted-operator,
// absent-permissions, invalid-profile-setting and profile-cycle. The
// production rule jwt-without-realm-claim is tested with the JWT checks,
// which have key files at hand.
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

TEST(CheckProfilesTest, ProductionRejectsWholeInternetOperatorGroup) {
  struct Case {
    const char* ip;
    const char* covered;
  };
  const Case cases[] = {
      {"0.0.0.0/0, ::/0", "every address"},
      {"0.0.0.0/1, 128.0.0.0/1", "every IPv4 address"},
      {"192.0.2.0/24, ::/1, 8000::/1", "every IPv6 address"},
      {"0.0.0.0/0, 2001:db8::/32", "every IPv4 address"},
  };
  for (const Case& c : cases) {
    auto out = check(inProject(std::string("permissions { default deny\n group g { ip ") + c.ip +
                                   "; allow terminal } }\n" + container("a", kContainerA),
                               "production"));
    const auto& d = only(out, "profile-default-allow");
    EXPECT_EQ(d.severity, diag::Severity::Error) << c.ip;
    EXPECT_EQ(d.message, std::string("group `g` admits ") + c.covered +
                             " and has no credential condition, so it opens the operator surface "
                             "`terminal` of project `p` to everyone under profile `production`");
    EXPECT_EQ(d.help, "narrow the `ip` condition to your networks, or add a credential condition");
    EXPECT_FALSE(out.ok) << c.ip;
  }
}

TEST(CheckProfilesTest, PartialRangesStillRestrict) {
  auto out = check(inProject("permissions { default deny\n group g { ip 0.0.0.0/1, ::/1; allow "
                             "terminal } }\n" +
                                 container("a", kContainerA),
                             "production"));
  EXPECT_EQ(countCode(out, "profile-default-allow"), 0u) << rendered(out);
  EXPECT_EQ(countCode(out, "profile-unrestricted-operator"), 0u) << rendered(out);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckProfilesTest, WholeInternetWithCredentialWarns) {
  auto out = check(inProject("permissions { group ops { ip 0.0.0.0/0, ::/0; " + kBearer +
                                 "; allow terminal } }\n" + container("a", kContainerA),
                             "production"));
  const auto& d = only(out, "profile-unrestricted-operator");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message, "group `ops` grants the operator surface `terminal` from every address "
                       "under profile `production`");
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckProfilesTest, TeamWarnsOnWholeInternetOperatorGroup) {
  auto out = check(inProject("permissions { group g { ip ::/0, 0.0.0.0/0; allow files } }\n" +
                             container("a", kContainerA)));
  EXPECT_EQ(only(out, "profile-default-allow").severity, diag::Severity::Warning);
  EXPECT_TRUE(out.ok);
  auto open = check(inProject("permissions { group g { ip ::/0, 0.0.0.0/0; allow files } }\n" +
                                  container("a", kContainerA),
                              "open"));
  EXPECT_EQ(countCode(open, "profile-default-allow"), 0u);
}

TEST(CheckProfilesTest, RealmGroupIsCheckedInEveryBlock) {
  // The coverage of a realm group is computed once and used for each block
  // that references it.
  std::string text = std::string("realm r { group g { ip 0.0.0.0/0; allow terminal }\n") +
                     " group h { ip 192.0.2.0/24; allow files }\n project p id " + kProjectId +
                     " { permissions { group g; group h }\n" +
                     container("a", kContainerA, "permissions { group h; group g }") + " } }\n";
  auto out = check(text);
  auto reports = withCode(out, "profile-default-allow");
  ASSERT_EQ(reports.size(), 2u) << rendered(out);
  EXPECT_EQ(reports[0]->span.line, 3);
  EXPECT_EQ(reports[1]->span.line, 5);
  for (const diag::Diagnostic* d : reports) {
    EXPECT_EQ(d->message.rfind("group `g` admits every IPv4 address", 0), 0u) << d->message;
  }
}

TEST(CheckProfilesTest, WholeInternetForPublicSurfacesIsFine) {
  auto out = check(inProject("permissions { group world { ip 0.0.0.0/0, ::/0; allow http } }\n" +
                                 container("a", kContainerA),
                             "production"));
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
  EXPECT_TRUE(out.ok);
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
