// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of lowering: policies are compiled to the decision IR and
// requests are decided by the reference interpreter. Covers empty versus
// absent permissions, container overrides regardless of declaration order,
// and the `test` blocks of the example policies.
#include <gtest/gtest-spi.h>

#include <memory>

#include "runtime/abi/address.h"
#include "runtime/policy/interpreter.h"
#include "runtime/policy/presented_verifier.h"
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

using policy::PresentedGroupVerifier;

struct Result {
  int status = 0;
  std::string group;  // Granting group, "default", or empty when denied.
};

class Decider {
 public:
  explicit Decider(const driver::FrontEndOutput& out)
      : interpreter_(std::make_shared<const ir::Policy>(out.policy)) {}

  Result decide(const driver::PolicyTestCase& t) const {
    policy::RequestFacts facts;
    facts.host.container = t.container_id;
    facts.host.project = t.project_id;
    facts.host.service = t.service;
    facts.host.instance = t.instance;
    facts.client = *net::parseAddress(t.client);
    facts.method = ir::methodFromToken(t.method);
    facts.path = t.path;
    policy::Credentials credentials;
    if (!t.presenting_group.empty()) {
      credentials.kind = presentsPassword(t) ? policy::Credentials::Kind::Basic
                                             : policy::Credentials::Kind::Bearer;
      credentials.user = "user";
      credentials.password = "password";
      credentials.token = "token";
      facts.credentials = &credentials;
    }
    PresentedGroupVerifier verifier(t.presenting_group);
    policy::Decision d = interpreter_.decide(facts, verifier);
    Result r;
    r.status = policy::statusOf(d.outcome);
    if (d.outcome == policy::Outcome::Allow) {
      const ir::Realm& realm = interpreter_.policy().realms[d.realm];
      const ir::Container& c = realm.containers[d.container];
      r.group = d.group < 0 ? "default" : realm.blocks[c.block].groups[d.group].name;
    }
    return r;
  }

 private:
  bool presentsPassword(const driver::PolicyTestCase& t) const {
    for (const ir::Realm& realm : interpreter_.policy().realms) {
      for (const ir::PermissionBlock& block : realm.blocks) {
        for (const ir::Group& g : block.groups) {
          if (g.name == t.presenting_group) return g.credential == ir::CredentialKind::Password;
        }
      }
    }
    return false;
  }

  policy::Interpreter interpreter_;
};

// Runs every request line of the policy's test blocks.
void expectPolicyTestsPass(const driver::FrontEndOutput& out) {
  ASSERT_TRUE(out.ok) << rendered(out);
  ASSERT_FALSE(out.tests.empty());
  Decider decider(out);
  for (const driver::PolicyTestCase& t : out.tests) {
    Result r = decider.decide(t);
    std::string where = t.file + ":" + std::to_string(t.line) + " (" + t.test_name + ")";
    EXPECT_EQ(r.status, t.expect_status) << where;
    if (!t.expect_group.empty()) {
      EXPECT_EQ(r.group, t.expect_group) << where;
    }
  }
}

TEST(DecisionsTest, EmptyPermissionsDenyEverything) {
  // Container a: a block with no groups. Container b: a block whose only
  // group grants nothing. The project's own block is empty too.
  std::string bearer = "bearer sha256:\"" + std::string(64, 'f') + "\"";
  auto out = check(inProject(
      "permissions { }\n" + container("a", kContainerA, "permissions { default deny }") +
      container("b", kContainerB, "permissions { group ops { " + bearer + " } }") +
      container("c", kContainerC) +
      "test \"empty means nobody\" {\n"
      " request a.terminal from 192.0.2.1 expect 403\n"
      " request a.http from 198.51.100.1 expect 403\n"
      " request b.http from 203.0.113.1 presenting ops expect 403\n"
      " request b.terminal from 2001:db8::1 presenting ops expect 403\n"
      " request c.http from 192.0.2.1 expect 403\n}"));
  EXPECT_GE(countCode(out, "unreachable-service"), 3u) << rendered(out);
  expectPolicyTestsPass(out);
}

TEST(DecisionsTest, OverrideReplacesInAnyOrder) {
  std::string project = "permissions { group staff { ip 192.0.2.0/24; allow http } }\n";
  std::string override_a =
      container("a", kContainerA,
                "permissions { group admins { ip 198.51.100.0/24; allow http paths \"/admin\" } }");
  std::string tests =
      "test \"override\" {\n"
      " request a.http from 192.0.2.5 path \"/admin/users\" expect 403\n"
      " request a.http from 192.0.2.5 path \"/admin\" expect 403\n"
      " request a.http from 192.0.2.5 path \"/admin/\" expect 403\n"
      " request a.http from 192.0.2.5 path \"/reports\" expect 403\n"
      " request a.http from 198.51.100.9 path \"/admin/users\" expect 200 group admins\n"
      " request a.http from 198.51.100.9 path \"/administrator\" expect 403\n"
      " request b.http from 192.0.2.5 path \"/reports\" expect 200 group staff\n"
      " request b.http from 198.51.100.9 path \"/admin/users\" expect 403\n}";
  expectPolicyTestsPass(check(inProject(project + override_a + container("b", kContainerB) + tests)));
  expectPolicyTestsPass(check(inProject(tests + container("b", kContainerB) + override_a + project)));
}

TEST(DecisionsTest, MappedClientMatchesIpv4Group) {
  auto out = check(inProject(
      "permissions { group office { ip 192.0.2.0/24; allow terminal } }\n" +
      container("a", kContainerA) +
      "test \"mapped\" {\n request a.terminal from ::ffff:192.0.2.10 expect 200 group office\n"
      " request a.terminal from ::ffff:203.0.113.9 expect 403\n"
      " request a.terminal from 2001:db8::5 expect 403\n}"));
  expectPolicyTestsPass(out);
}

TEST(DecisionsTest, WrongExpectationFails) {
  auto out = check(inProject("permissions { default allow http }\n" + container("a", kContainerA) +
                             "test \"wrong\" { request a.http from 192.0.2.1 expect 403 }"));
  EXPECT_NONFATAL_FAILURE(expectPolicyTestsPass(out), "wrong");
}

class ExamplePolicyDecisionsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ExamplePolicyDecisionsTest, TestBlocksPassOnTheInterpreter) {
  driver::FrontEndOptions options;
  options.files.push_back(std::string(HOODY_SOURCE_DIR) + "/policies/" + GetParam());
  expectPolicyTestsPass(driver::runFrontEnd(options));
}

INSTANTIATE_TEST_SUITE_P(Policies, ExamplePolicyDecisionsTest,
                         ::testing::Values("open.hoody", "team.hoody", "production.hoody"));

}  // namespace
}  // namespace hoody::testing
