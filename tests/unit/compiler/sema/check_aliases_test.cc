// SPDX-License-Identifier: Apache-2.0
// Tests of alias rules: operator-alias, orphan-alias, generic-alias-name,
// alias-collision, invalid-alias-target, ambiguous-name, ct-log-visibility,
// invalid-alias-setting, and invalid-path-prefix and non-normalized-path-prefix
// on target paths.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

const std::string kBearer = "bearer sha256:\"" + std::string(64, 'd') + "\"";

driver::FrontEndOutput checkAlias(const std::string& permissions, const std::string& alias) {
  return check(inProject("permissions { " + permissions + " }\n" + container("api", kContainerA) +
                         alias));
}

TEST(CheckAliasesTest, PublicSurfaceAliasIsFine) {
  auto out = checkAlias("default allow http",
                        "alias acme-billing-api -> api.http { target_path \"/api/v1\"; "
                        "allow_path_override false; scrub_container_id true }");
  EXPECT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
}

TEST(CheckAliasesTest, OperatorSurfaceAllowedByDefaultIsRejected) {
  auto out = checkAlias("default allow", "alias acme-shell -> api.terminal");
  const auto& d = only(out, "operator-alias");
  EXPECT_EQ(d.message, "alias `acme-shell` exposes the operator surface `terminal` of container "
                       "`api`, which its permissions allow by default");
}

TEST(CheckAliasesTest, OperatorSurfaceGrantedWithoutConditionIsRejected) {
  auto out = checkAlias("group anyone { allow terminal }", "alias acme-shell -> api.terminal");
  EXPECT_NE(only(out, "operator-alias").message.find("group `anyone` grants without an ip or "
                                                     "credential condition"),
            std::string::npos);
}

TEST(CheckAliasesTest, OperatorSurfaceBehindCredentialIsAccepted) {
  auto out = checkAlias("group ops { " + kBearer + "; allow terminal }",
                        "alias acme-shell -> api.terminal");
  EXPECT_EQ(countCode(out, "operator-alias"), 0u);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckAliasesTest, OperatorSurfaceNobodyGrantsWarns) {
  auto out = checkAlias("default allow http", "alias acme-shell -> api.terminal");
  EXPECT_EQ(only(out, "unreachable-service").message,
            "alias `acme-shell` routes to `terminal` of container `api`, which no group grants");
}

TEST(CheckAliasesTest, OrphanAlias) {
  auto out = checkAlias("default allow http", "alias acme-web -> apx.http");
  const auto& d = only(out, "orphan-alias");
  EXPECT_EQ(d.message, "alias `acme-web` targets container `apx`, which does not exist");
  EXPECT_EQ(d.help, "did you mean `api`?");
}

TEST(CheckAliasesTest, AliasToOtherRealmIsCrossRealm) {
  std::string text = inProject("permissions { default allow http }\n" + container("api", kContainerA)) +
                     "realm other { project q id " + kContainerB + " {\n" +
                     "alias other-api -> r.api.http\n alias other-api2 -> api.http } }\n";
  auto out = check(text);
  EXPECT_EQ(countCode(out, "cross-realm-reference"), 2u) << rendered(out);
}

TEST(CheckAliasesTest, MalformedTarget) {
  auto out = checkAlias("default allow http", "alias acme-web -> api");
  EXPECT_EQ(countCode(out, "invalid-alias-target"), 1u);
}

TEST(CheckAliasesTest, UnknownServiceInTarget) {
  auto out = checkAlias("default allow http", "alias acme-web -> api.htp");
  EXPECT_EQ(only(out, "unknown-service").help.rfind("did you mean `http`?", 0), 0u);
}

TEST(CheckAliasesTest, AmbiguousContainerAcrossProjects) {
  std::string text = std::string("realm r {\n project p id ") + kProjectId + " { container api id " +
                     kContainerA + " }\n project q id " + kContainerB + " { container api id " +
                     kContainerC + " }\n project s id 3e7a1c9f5b2d8e4a6c0f1b3d {\n" +
                     " permissions { default allow http }\n alias acme-web -> api.http } }\n";
  auto out = check(text);
  EXPECT_EQ(only(out, "ambiguous-name").help, "qualify the target with its project: `PROJECT.api.http`");
}

TEST(CheckAliasesTest, GenericNameWarns) {
  auto out = checkAlias("default allow http", "alias api -> api.http");
  const auto& d = only(out, "generic-alias-name");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_TRUE(out.ok);
}

TEST(CheckAliasesTest, NameThatReadsLikeContainerHostCollides) {
  auto out = checkAlias("default allow http", std::string("alias ") + kContainerA + "-" + kProjectId +
                                                  "-http-1 -> api.http");
  EXPECT_EQ(countCode(out, "alias-collision"), 1u);
}

TEST(CheckAliasesTest, InvalidAliasName) {
  auto out = checkAlias("default allow http", "alias Acme_Web -> api.http");
  EXPECT_EQ(only(out, "invalid-name").message, "alias name `Acme_Web` is not a host name label");
}

TEST(CheckAliasesTest, CustomDomainGetsCertificateTransparencyNote) {
  auto out = checkAlias("default allow http",
                        "alias acme-web -> api.http { domain \"billing.acme.example\" }");
  const auto& d = only(out, "ct-log-visibility");
  EXPECT_EQ(d.severity, diag::Severity::Note);
  EXPECT_NE(d.message.find("Certificate Transparency"), std::string::npos);
}

TEST(CheckAliasesTest, DuplicateCustomDomainCollides) {
  auto out = checkAlias("default allow http",
                        "alias acme-web -> api.http { domain \"billing.acme.example\" }\n"
                        "alias acme-web2 -> api.http { domain \"billing.acme.example\" }");
  EXPECT_EQ(only(out, "alias-collision").message,
            "domain `billing.acme.example` is already used by alias `acme-web`");
}

TEST(CheckAliasesTest, InvalidTargetPath) {
  auto out = checkAlias("default allow http", "alias acme-web -> api.http { target_path \"/a/../b\" }");
  EXPECT_EQ(countCode(out, "invalid-path-prefix"), 1u);
}

TEST(CheckAliasesTest, NonNormalizedTargetPathWarns) {
  auto out = checkAlias("default allow http",
                        "alias acme-web -> api.http { target_path \"/%7Eshop\" }");
  EXPECT_EQ(only(out, "non-normalized-path-prefix").message,
            "target path `/%7Eshop` is matched as `/~shop`, the form the proxy normalizes request "
            "paths to");
}

TEST(CheckAliasesTest, OperatorSurfaceOpenToWholeInternetIsRejected) {
  auto out = checkAlias("group anyone { ip 0.0.0.0/0; allow terminal }",
                        "alias acme-shell -> api.terminal");
  const auto& d = only(out, "operator-alias");
  EXPECT_EQ(d.message, "alias `acme-shell` exposes the operator surface `terminal` of container "
                       "`api`, which group `anyone` grants to every IPv4 address without a "
                       "credential condition");
  out = checkAlias("group office { ip 192.0.2.0/24; allow terminal }",
                   "alias acme-shell -> api.terminal");
  EXPECT_EQ(countCode(out, "operator-alias"), 0u) << rendered(out);
}

TEST(CheckAliasesTest, PathOverrideWithoutTargetPathWarns) {
  auto out = checkAlias("default allow http", "alias acme-web -> api.http { allow_path_override true }");
  EXPECT_EQ(countCode(out, "invalid-alias-setting"), 1u);
}

}  // namespace
}  // namespace hoody::testing
