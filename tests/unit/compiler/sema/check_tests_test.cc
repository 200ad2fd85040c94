// SPDX-License-Identifier: Apache-2.0
// Tests of test-block checks and of the test cases the front end returns.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

const std::string kBearer = "bearer sha256:\"" + std::string(64, 'e') + "\"";

driver::FrontEndOutput checkTests(const std::string& requests) {
  return check(inProject("permissions { group world { ip 0.0.0.0/0; allow http }\n group ops { " +
                         kBearer + "; allow terminal } }\n" + container("api", kContainerA) +
                         "test \"t\" {\n" + requests + "\n}"));
}

TEST(CheckTestsTest, CollectsTestCases) {
  auto out = checkTests(
      std::string("request api.terminal instance 2 from 198.51.100.7 method POST path \"/x\" "
                  "presenting ops expect 200 group ops\n") +
      "request " + kContainerB + "-" + kProjectId + ".http from 192.0.2.1 expect 404");
  ASSERT_TRUE(out.ok) << rendered(out);
  ASSERT_EQ(out.tests.size(), 2u);
  const driver::PolicyTestCase& first = out.tests[0];
  EXPECT_EQ(first.test_name, "t");
  EXPECT_EQ(first.realm, "r");
  EXPECT_EQ(first.container, "api");
  EXPECT_EQ(first.service, ir::Service::Terminal);
  EXPECT_EQ(first.instance, 2u);
  EXPECT_EQ(first.client, "198.51.100.7");
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.path, "/x");
  EXPECT_EQ(first.presenting_group, "ops");
  EXPECT_EQ(first.expect_status, 200);
  EXPECT_EQ(first.expect_group, "ops");
  EXPECT_EQ(first.line, 9);
  EXPECT_FALSE(first.raw_ids);
  EXPECT_EQ(first.container_id, out.policy.realms[0].containers[0].id);

  const driver::PolicyTestCase& second = out.tests[1];
  EXPECT_TRUE(second.raw_ids);
  EXPECT_TRUE(second.container.empty());
  EXPECT_EQ(second.project_id, out.policy.realms[0].containers[0].project_id);
  EXPECT_EQ(second.method, "GET");
  EXPECT_EQ(second.path, "/");
  EXPECT_EQ(second.expect_status, 404);
}

TEST(CheckTestsTest, UnknownStatus) {
  auto out = checkTests("request api.http from 198.51.100.7 expect 302");
  EXPECT_EQ(only(out, "invalid-test-request").message, "`302` is not an outcome a policy decides");
}

TEST(CheckTestsTest, UnknownContainerAndService) {
  auto out = checkTests("request apj.http from 198.51.100.7 expect 200\n"
                        "request api.htp from 198.51.100.7 expect 200");
  EXPECT_EQ(only(out, "unknown-name").message, "container `apj` is not declared in realm `r`");
  EXPECT_EQ(countCode(out, "unknown-service"), 1u);
}

TEST(CheckTestsTest, PresentingGroupMustHaveCredential) {
  auto out = checkTests("request api.http from 198.51.100.7 presenting world expect 200");
  EXPECT_EQ(only(out, "invalid-test-request").message,
            "group `world` has no credential condition, so there is nothing to present");
}

TEST(CheckTestsTest, PresentingAndExpectedGroupsMustExist) {
  auto out = checkTests("request api.http from 198.51.100.7 presenting opz expect 200 group wrld");
  auto unknown = withCode(out, "unknown-name");
  ASSERT_EQ(unknown.size(), 2u) << rendered(out);
  EXPECT_EQ(unknown[0]->help, "did you mean `ops`?");
  EXPECT_EQ(unknown[1]->help, "did you mean `world`?");
}

TEST(CheckTestsTest, DefaultIsAValidExpectedGroup) {
  auto out = checkTests("request api.http from 198.51.100.7 expect 200 group default");
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckTestsTest, BadMethodPathAndInstance) {
  auto out = checkTests("request api.http instance 0 from 198.51.100.7 method get path \"x\" expect 200");
  EXPECT_EQ(countCode(out, "unknown-method"), 1u);
  EXPECT_EQ(countCode(out, "invalid-test-request"), 2u) << rendered(out);
}

TEST(CheckTestsTest, TestsAreDroppedWhenThePolicyHasErrors) {
  auto out = checkTests("request api.http from 198.51.100.7 expect 999");
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.tests.empty());
}

}  // namespace
}  // namespace hoody::testing
