// SPDX-License-Identifier: Apache-2.0
// Tests of the front-end driver: rendering, ordering, the diagnostic cap,
// stage order, file errors, effective-permission descriptions and the
// example policies.
#include "compiler/driver/frontend.h"

#include <nlohmann/json.hpp>

#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

TEST(FrontEndTest, RendersCompilerStyleWithCaretAndHelp) {
  std::string text = std::string("realm r {\n  project p id ") + kProjectId + " {\n" +
                     "    permissions {\n    group ops { ip 192.0.2.0/33; allow terminal }\n    }\n" +
                     "    container a id " + kContainerA + "\n  }\n}\n";
  auto out = check(text, "policies/x.hoody");
  EXPECT_EQ(renderDiagnostics(out, false),
            "policies/x.hoody:4:20: error[invalid-cidr]: `192.0.2.0/33` has prefix length `33`; "
            "expected a decimal 0..32\n"
            "    4 |     group ops { ip 192.0.2.0/33; allow terminal }\n"
            "      |                    ^~~~~~~~~~~~\n"
            "   = help: write a prefix between 0 and 32, e.g. `192.0.2.0/24`\n"
            "1 error, 0 warnings\n");
}

TEST(FrontEndTest, ColorRenderingWrapsSeverity) {
  auto out = check("realm r { @ }");
  std::string colored = renderDiagnostics(out, true);
  EXPECT_NE(colored.find("\033[1;31merror[syntax-error]\033[0m"), std::string::npos) << colored;
}

TEST(FrontEndTest, RendersJson) {
  auto out = check("realm r {\n  bad\n}\n");
  auto doc = nlohmann::json::parse(renderDiagnosticsJson(out));
  EXPECT_EQ(doc["errors"], 1);
  EXPECT_EQ(doc["warnings"], 0);
  ASSERT_EQ(doc["diagnostics"].size(), 1u);
  const auto& d = doc["diagnostics"][0];
  EXPECT_EQ(d["code"], "syntax-error");
  EXPECT_EQ(d["severity"], "error");
  EXPECT_EQ(d["file"], "test.hoody");
  EXPECT_EQ(d["line"], 2);
  EXPECT_EQ(d["column"], 3);
  EXPECT_EQ(d["end_column"], 6);
  EXPECT_TRUE(d["message"].is_string());
  EXPECT_TRUE(d["help"].is_string());
}

TEST(FrontEndTest, DiagnosticsAreSortedByLocation) {
  // The ID check runs after the name check, but its error comes first in
  // the file.
  std::string text = inProject("permissions { default allow http }\n" + container("a", "BAD") +
                               container("a", kContainerB));
  auto out = check(text);
  ASSERT_GE(out.diagnostics.size(), 2u);
  for (size_t i = 1; i < out.diagnostics.size(); ++i) {
    EXPECT_FALSE(diag::spanBefore(out.diagnostics[i].span, out.diagnostics[i - 1].span)) << i;
  }
  EXPECT_EQ(out.diagnostics[0].code, "invalid-id");
}

TEST(FrontEndTest, RenderingIsCapped) {
  std::string items = "permissions { group g { ip ";
  for (int i = 0; i < 150; ++i) items += (i ? ", " : "") + std::string("192.0.2.") + std::to_string(300 + i);
  items += "; allow http } }\n" + container("a", kContainerA);
  auto out = check(inProject(items));
  EXPECT_EQ(out.error_count, 150u);
  std::string text = renderDiagnostics(out, false);
  EXPECT_NE(text.find("50 more diagnostics not shown\n150 errors, 0 warnings\n"), std::string::npos);
}

TEST(FrontEndTest, SyntaxErrorsStopBeforeChecking) {
  driver::FrontEndOptions options;
  options.inline_sources.push_back({"good.hoody", inProject(container("a", "BAD"))});
  options.inline_sources.push_back({"bad.hoody", "realm x {"});
  auto out = driver::runFrontEnd(options);
  EXPECT_EQ(countCode(out, "syntax-error"), 1u);
  EXPECT_EQ(countCode(out, "invalid-id"), 0u);
  EXPECT_FALSE(out.ok);
}

TEST(FrontEndTest, UnreadableFileIsAnIoError) {
  driver::FrontEndOptions options;
  options.files.push_back("/nonexistent/policy.hoody");
  auto out = driver::runFrontEnd(options);
  const auto& d = only(out, "io-error");
  EXPECT_EQ(d.message, "cannot read `/nonexistent/policy.hoody`: No such file or directory");
  EXPECT_EQ(renderDiagnostics(out, false).rfind("/nonexistent/policy.hoody: error[io-error]", 0), 0u);
}

TEST(FrontEndTest, RecordsStageTimes) {
  TempDir dir;
  driver::FrontEndOptions options;
  options.files.push_back(dir.write(
      "p.hoody", inProject("permissions { default allow http }\n" + container("a", kContainerA))));
  options.inventory_path =
      dir.write("inventory.json", std::string("{ \"node\": \"n\", \"domain\": \"example.net\", "
                                              "\"containers\": { \"") +
                                      kContainerA + "\": { \"upstream\": \"127.0.0.1\" } } }");
  auto out = driver::runFrontEnd(options);
  ASSERT_TRUE(out.ok) << rendered(out);
  std::vector<std::string> stages;
  for (const driver::StageTime& t : out.stage_times) {
    stages.push_back(t.stage);
    EXPECT_GE(t.milliseconds, 0.0) << t.stage;
    EXPECT_GT(t.max_rss_kib, 0u) << t.stage;
  }
  EXPECT_EQ(stages, (std::vector<std::string>{"read", "parse", "check", "lower", "inventory"}));
}

TEST(FrontEndTest, StagesStopAtSyntaxErrors) {
  auto out = check("realm {");
  ASSERT_EQ(out.stage_times.size(), 2u);
  EXPECT_EQ(out.stage_times[0].stage, "read");
  EXPECT_EQ(out.stage_times[1].stage, "parse");
}

TEST(FrontEndTest, NoInputIsAnError) {
  auto out = driver::runFrontEnd({});
  EXPECT_EQ(countCode(out, "io-error"), 1u);
  EXPECT_FALSE(out.ok);
}

TEST(FrontEndTest, DescribesEffectivePermissions) {
  auto out = check(inProject(
      "permissions { default allow http\n group staff { ip 192.0.2.0/24, 192.0.2.128/25, "
      "2001:db8::/32; allow files methods GET paths \"/pub\" } }\n" +
      container("a", kContainerA) +
      container("b", kContainerB, "state maintenance\n permissions { }")));
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(driver::describeEffectivePermissions(out.policy, "r", "a"),
            "container a (realm r, project p)\n"
            "  permissions declared on project p\n"
            "  default: allow http; deny the rest\n"
            "  group staff: ip 192.0.2.0/24, 2001:db8::/32\n"
            "    allow files methods GET paths /pub\n");
  EXPECT_EQ(driver::describeEffectivePermissions(out.policy, "r", "b"),
            "container b (realm r, project p) in maintenance\n"
            "  permissions declared on container b\n"
            "  default: deny\n"
            "  groups: none\n");
  EXPECT_EQ(driver::describeEffectivePermissions(out.policy, "r", "zzz"), "");
}

class ExamplePolicyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ExamplePolicyTest, ChecksWithoutErrors) {
  driver::FrontEndOptions options;
  options.files.push_back(std::string(HOODY_SOURCE_DIR) + "/policies/" + GetParam());
  auto out = driver::runFrontEnd(options);
  EXPECT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.error_count, 0u);
  EXPECT_FALSE(out.tests.empty());
}

INSTANTIATE_TEST_SUITE_P(Policies, ExamplePolicyTest,
                         ::testing::Values("open.hoody", "team.hoody", "production.hoody"));

TEST(ExamplePoliciesTest, CheckTogether) {
  driver::FrontEndOptions options;
  for (const char* name : {"open.hoody", "team.hoody", "production.hoody"}) {
    options.files.push_back(std::string(HOODY_SOURCE_DIR) + "/policies/" + name);
  }
  auto out = driver::runFrontEnd(options);
  EXPECT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.policy.realms.size(), 3u);
}

TEST(ExamplePoliciesTest, ProductionEncodesItsPermissions) {
  driver::FrontEndOptions options;
  options.files.push_back(std::string(HOODY_SOURCE_DIR) + "/policies/production.hoody");
  auto out = driver::runFrontEnd(options);
  ASSERT_TRUE(out.ok) << rendered(out);
  // The only warning: operators reach operator surfaces from any address.
  EXPECT_EQ(out.warning_count, 1u) << rendered(out);
  EXPECT_EQ(countCode(out, "profile-unrestricted-operator"), 1u);

  ASSERT_EQ(out.policy.realms.size(), 1u);
  const ir::Realm& realm = out.policy.realms[0];
  EXPECT_EQ(realm.name, "acme");
  ASSERT_EQ(realm.containers.size(), 3u);
  const ir::Container& api = realm.containers[0];
  const ir::Container& worker = realm.containers[1];
  const ir::Container& db = realm.containers[2];
  EXPECT_EQ(api.name, "public-api");
  EXPECT_EQ(worker.name, "billing-worker");
  EXPECT_EQ(db.name, "billing-db");
  EXPECT_FALSE(worker.maintenance);
  EXPECT_TRUE(db.maintenance);

  const ir::PermissionBlock& project = realm.blocks.at(worker.block);
  EXPECT_EQ(db.block, worker.block);
  EXPECT_EQ(project.origin, "project production");
  EXPECT_EQ(project.default_allow, ir::kNoServices);
  ASSERT_EQ(project.groups.size(), 2u);
  EXPECT_EQ(project.groups[0].name, "devops");
  EXPECT_EQ(project.groups[0].grants.at(0).services,
            ir::bit(ir::Service::Terminal) | ir::bit(ir::Service::Files) |
                ir::bit(ir::Service::Display));
  EXPECT_EQ(project.groups[1].name, "monitoring");
  EXPECT_EQ(project.groups[1].credential, ir::CredentialKind::Bearer);
  EXPECT_EQ(project.groups[1].grants.at(0).services, ir::bit(ir::Service::Http));
  EXPECT_EQ(project.groups[1].grants.at(0).methods,
            ir::bit(ir::Method::Get) | ir::bit(ir::Method::Head));

  const ir::PermissionBlock& own = realm.blocks.at(api.block);
  EXPECT_EQ(own.origin, "container public-api");
  ASSERT_EQ(own.groups.size(), 2u);
  EXPECT_EQ(own.groups[0].name, "world");
  EXPECT_EQ(own.groups[0].ip.v4.size(), 1u);
  EXPECT_EQ(own.groups[0].ip.v6.size(), 1u);
  EXPECT_EQ(own.groups[1].name, "operators");
  ASSERT_TRUE(own.groups[1].jwt.has_value());
  EXPECT_EQ(own.groups[1].jwt->algorithms, std::vector<std::string>{"ES256"});
  EXPECT_FALSE(own.groups[1].jwt->issuer.empty());
  EXPECT_FALSE(own.groups[1].jwt->audiences.empty());
  EXPECT_NE(own.groups[1].jwt->key_pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  EXPECT_EQ(own.groups[1].grants.at(0).services, ir::kAllServices);

  std::set<int> statuses;
  for (const auto& t : out.tests) statuses.insert(t.expect_status);
  EXPECT_EQ(statuses, (std::set<int>{200, 401, 403, 404, 503}));
}

}  // namespace
}  // namespace hoody::testing
