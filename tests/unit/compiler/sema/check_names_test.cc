// SPDX-License-Identifier: Apache-2.0
// Tests of name checks: invalid-name, duplicate-name, unknown-name and
// cross-realm-reference.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

TEST(CheckNamesTest, DuplicateRealmAcrossFiles) {
  driver::FrontEndOptions options;
  options.inline_sources.push_back({"a.hoody", "realm acme { }\n"});
  options.inline_sources.push_back({"b.hoody", "realm acme { }\n"});
  auto out = driver::runFrontEnd(options);
  const auto& d = only(out, "duplicate-name");
  EXPECT_EQ(d.span.file, "b.hoody");
  EXPECT_EQ(d.message, "realm `acme` is already declared at a.hoody:1");
  EXPECT_FALSE(out.ok);
}

TEST(CheckNamesTest, DuplicateContainerInProject) {
  auto out = check(inProject(container("api", kContainerA) + container("api", kContainerB)));
  const auto& d = only(out, "duplicate-name");
  EXPECT_NE(d.message.find("container `api` is already declared in project `p`"),
            std::string::npos);
}

TEST(CheckNamesTest, DuplicateGroupInBlock) {
  auto out = check(inProject(
      "permissions { group ops { ip 192.0.2.0/24; allow http }\n"
      " group ops { ip 198.51.100.0/24; allow http } }\n" + container("api", kContainerA)));
  EXPECT_EQ(only(out, "duplicate-name").span.line, 4);
}

TEST(CheckNamesTest, DuplicateProjectGroupProviderAndProfileInRealm) {
  auto out = check(std::string("realm r {\n") +
                   " group g { ip 192.0.2.0/24; allow http }\n group g { ip 192.0.2.0/24; allow http }\n"
                   " profile s { base team }\n profile s { base team }\n"
                   " project p id " + kProjectId + " { }\n project p id " + kContainerA + " { }\n}\n");
  EXPECT_EQ(countCode(out, "duplicate-name"), 3u) << rendered(out);
}

TEST(CheckNamesTest, DuplicateAliasAcrossRealms) {
  std::string text = std::string("realm a { project p id ") + kProjectId + " { container c id " +
                     kContainerA + "\n permissions { default allow http }\n alias shop-api -> c.http } }\n" +
                     "realm b { project q id " + kContainerB + " { container d id " + kContainerC +
                     "\n permissions { default allow http }\n alias shop-api -> d.http } }\n";
  auto out = check(text);
  EXPECT_NE(only(out, "duplicate-name").message.find("on this node"), std::string::npos);
}

TEST(CheckNamesTest, UnknownGroupReferenceSuggestsClosest) {
  std::string text = std::string("realm r {\n group devops { ip 192.0.2.0/24; allow terminal }\n") +
                     " project p id " + kProjectId + " {\n  permissions { group devop }\n" +
                     container("a", kContainerA) + " }\n}\n";
  auto out = check(text);
  const auto& d = only(out, "unknown-name");
  EXPECT_EQ(d.message, "group `devop` is not declared in realm `r`");
  EXPECT_EQ(d.help, "did you mean `devops`?");
  EXPECT_EQ(d.span.line, 4);
}

TEST(CheckNamesTest, QualifiedReferenceToOtherRealmIsCrossRealm) {
  std::string text = std::string("realm other { group devops { ip 192.0.2.0/24; allow http } }\n") +
                     "realm r { project p id " + kProjectId + " {\n permissions { group other.devops }\n" +
                     container("a", kContainerA) + " } }\n";
  auto out = check(text);
  const auto& d = only(out, "cross-realm-reference");
  EXPECT_EQ(d.message, "group `other.devops` belongs to realm `other`; realm `r` cannot use it");
  EXPECT_EQ(countCode(out, "unknown-name"), 0u);
}

TEST(CheckNamesTest, PlainReferenceToOtherRealmIsCrossRealm) {
  std::string text = std::string("realm other { group devops { ip 192.0.2.0/24; allow http } }\n") +
                     "realm r { project p id " + kProjectId + " {\n permissions { group devops }\n" +
                     container("a", kContainerA) + " } }\n";
  auto out = check(text);
  EXPECT_EQ(only(out, "cross-realm-reference").message,
            "group `devops` is declared in realm `other`, not in realm `r`");
}

TEST(CheckNamesTest, QualifiedReferenceToOwnRealmResolves) {
  std::string text = std::string("realm r { group devops { ip 192.0.2.0/24; allow http }\n") +
                     "project p id " + kProjectId + " {\n permissions { group r.devops }\n" +
                     container("a", kContainerA) + " } }\n";
  auto out = check(text);
  EXPECT_TRUE(out.ok) << rendered(out);
  ASSERT_EQ(out.policy.realms[0].blocks[0].groups.size(), 1u);
  EXPECT_EQ(out.policy.realms[0].blocks[0].groups[0].name, "devops");
}

TEST(CheckNamesTest, UnknownProfileAndProvider) {
  auto out = check(inProject(container("a", kContainerA, "network { exit vpn mulvad }"),
                             "prodution"));
  auto unknown = withCode(out, "unknown-name");
  ASSERT_EQ(unknown.size(), 2u) << rendered(out);
  EXPECT_EQ(unknown[0]->message, "profile `prodution` is not declared");
  EXPECT_EQ(unknown[0]->help, "did you mean `production`?");
  EXPECT_EQ(unknown[1]->message, "provider `mulvad` is not declared in realm `r`");
}

TEST(CheckNamesTest, ProviderOfOtherRealmIsCrossRealm) {
  std::string text =
      std::string("realm other { provider mullvad { wireguard { endpoint 198.51.100.20:51820; ") +
      "public_key \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"; address 10.64.0.2/32 } } }\n" +
      inProject(container("a", kContainerA, "network { exit vpn mullvad }"));
  auto out = check(text);
  EXPECT_EQ(countCode(out, "cross-realm-reference"), 1u) << rendered(out);
}

TEST(CheckNamesTest, InvalidDeclaredNames) {
  auto out = check(inProject("permissions { group ops.team { ip 192.0.2.0/24; allow http }\n"
                             " group default { ip 192.0.2.0/24; allow http } }\n" +
                             container("a", kContainerA)));
  auto invalid = withCode(out, "invalid-name");
  ASSERT_EQ(invalid.size(), 2u) << rendered(out);
  EXPECT_EQ(invalid[0]->message, "group name `ops.team` is not a valid name");
  EXPECT_EQ(invalid[1]->message, "group name `default` is reserved for the block's default");
}

TEST(CheckNamesTest, CustomProfileCannotShadowBuiltin) {
  auto out = check("realm r { profile production { base team } }\n");
  EXPECT_EQ(only(out, "invalid-name").message, "profile name `production` is a built-in profile");
}

}  // namespace
}  // namespace hoody::testing
