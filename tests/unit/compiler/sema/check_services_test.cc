// SPDX-License-Identifier: Apache-2.0
// Tests of service checks: unknown-service, unknown-method,
// invalid-path-prefix, non-normalized-path-prefix and conflicting-default.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

driver::FrontEndOutput checkBlock(const std::string& block) {
  return check(inProject("permissions {\n" + block + "\n}\n" + container("a", kContainerA)));
}

TEST(CheckServicesTest, UnknownServiceSuggestsClosest) {
  auto out = checkBlock("group ops { ip 192.0.2.0/24; allow terminl }");
  const auto& d = only(out, "unknown-service");
  EXPECT_EQ(d.message, "`terminl` is not a service");
  EXPECT_EQ(d.help.rfind("did you mean `terminal`? services are `http`, `exec`", 0), 0u) << d.help;
}

TEST(CheckServicesTest, UnknownServiceInDefault) {
  auto out = checkBlock("default allow web");
  EXPECT_EQ(only(out, "unknown-service").message, "`web` is not a service");
}

TEST(CheckServicesTest, AllIsAcceptedInGrants) {
  auto out = checkBlock("group ops { ip 192.0.2.0/24; allow all }");
  EXPECT_EQ(countCode(out, "unknown-service"), 0u);
}

TEST(CheckServicesTest, LowercaseMethodGetsUppercaseHelp) {
  auto out = checkBlock("group ops { ip 192.0.2.0/24; allow http methods get }");
  const auto& d = only(out, "unknown-method");
  EXPECT_EQ(d.message, "`get` is not an HTTP method a grant can name");
  EXPECT_EQ(d.help, "methods are written in uppercase: `GET`");
}

TEST(CheckServicesTest, UnknownMethod) {
  auto out = checkBlock("group ops { ip 192.0.2.0/24; allow http methods FETCH }");
  EXPECT_EQ(countCode(out, "unknown-method"), 1u);
}

TEST(CheckServicesTest, InvalidPathPrefixes) {
  struct Case {
    const char* path;
    const char* reason;
  };
  const Case cases[] = {
      {"metrics", "it does not start with `/`"},
      {"/a/../admin", "it contains a `.` or `..` segment"},
      {"/a/./b", "it contains a `.` or `..` segment"},
      {"/a/%2e%2E/admin", "it contains a `.` or `..` segment"},
      {"/admin/.", "it contains a `.` or `..` segment"},
      {"/a//b", "it contains `//`"},
      {"//", "it contains `//`"},
      {"/a?b=1", "it contains a query or fragment"},
      {"/a;jsessionid=1", "it contains `;`, which the proxy rejects in request paths"},
      {"/a%2Fb", "it contains an encoded `/`, `\\`, NUL, `;`, `?` or `#`, which the proxy "
                 "rejects in request paths"},
      {"/a%zz", "it contains an invalid percent escape"},
      {"/a%4", "it contains an invalid percent escape"},
      {"/caf%C3", "its percent escapes are not valid UTF-8"},
      {"", "it is empty"},
  };
  for (const Case& c : cases) {
    auto out = checkBlock(std::string("group ops { ip 192.0.2.0/24; allow http paths \"") + c.path +
                          "\" }");
    const auto& d = only(out, "invalid-path-prefix");
    EXPECT_EQ(d.message, std::string("path prefix `") + c.path + "` is not valid: " + c.reason);
  }
}

TEST(CheckServicesTest, NonNormalizedPrefixesWarnWithMatchedForm) {
  struct Case {
    const char* path;
    const char* normalized;
  };
  const Case cases[] = {
      {"/%61dmin", "/admin"},
      {"/%7Eops/", "/~ops/"},
      {"/caf%c3%a9", "/caf%C3%A9"},
      {"/caf\xC3\xA9", "/caf%C3%A9"},
      {"/a[1]", "/a%5B1%5D"},
      {"/a%20b", "/a%20b"},
  };
  for (const Case& c : cases) {
    auto out = checkBlock(std::string("group ops { ip 192.0.2.0/24; allow http paths \"") +
                          c.path + "\" }");
    EXPECT_EQ(countCode(out, "invalid-path-prefix"), 0u) << c.path << "\n" << rendered(out);
    auto found = withCode(out, "non-normalized-path-prefix");
    if (std::string(c.path) == c.normalized) {
      EXPECT_TRUE(found.empty()) << c.path << "\n" << rendered(out);
      continue;
    }
    ASSERT_EQ(found.size(), 1u) << c.path << "\n" << rendered(out);
    EXPECT_EQ(found[0]->severity, diag::Severity::Warning);
    EXPECT_EQ(found[0]->message, std::string("path prefix ") + diag::quote(c.path) +
                                     " is matched as `" + c.normalized +
                                     "`, the form the proxy normalizes request paths to");
    EXPECT_EQ(found[0]->help, std::string("write `") + c.normalized + "`");
    ASSERT_TRUE(out.ok) << rendered(out);
    EXPECT_EQ(out.policy.realms[0].blocks[0].groups[0].grants[0].path_prefixes,
              std::vector<std::string>{c.normalized});
  }
}

TEST(CheckServicesTest, TrailingSlashIsKept) {
  auto out = checkBlock("group ops { ip 192.0.2.0/24; allow http paths \"/admin/\", \"/metrics\" }");
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.policy.realms[0].blocks[0].groups[0].grants[0].path_prefixes,
            (std::vector<std::string>{"/admin/", "/metrics"}));
}

TEST(CheckServicesTest, TwoGlobalDefaultsConflict) {
  auto out = checkBlock("default deny\ndefault allow");
  EXPECT_EQ(only(out, "conflicting-default").message,
            "this block already sets the default `deny` at line 4");
}

TEST(CheckServicesTest, ServiceAllowedAndDeniedConflicts) {
  auto out = checkBlock("default allow http\ndefault deny http, terminal");
  EXPECT_EQ(only(out, "conflicting-default").message,
            "service `http` is both allowed and denied by default");
}

TEST(CheckServicesTest, PerServiceDefaultsCombineWithGlobal) {
  auto out = checkBlock("default deny terminal\ndefault allow");
  EXPECT_EQ(countCode(out, "conflicting-default"), 0u);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.policy.realms[0].blocks[0].default_allow,
            ir::kAllServices & ~ir::bit(ir::Service::Terminal));
}

}  // namespace
}  // namespace hoody::testing
