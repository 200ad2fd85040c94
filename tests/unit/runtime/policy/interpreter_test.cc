// SPDX-License-Identifier: Apache-2.0
// Tests for the reference interpreter's decision semantics.
#include "runtime/policy/interpreter.h"

#include <gtest/gtest.h>

#include "runtime/abi/address.h"

namespace hoody::policy {
namespace {

// Accepts the password "good", the bearer token "good" and the JWT "good",
// and counts every call.
class FakeVerifier : public Verifier {
 public:
  bool verifyPassword(const ir::Group&, std::string_view, std::string_view p) override {
    ++calls;
    return p == "good";
  }
  bool verifyBearer(const ir::Group&, std::string_view t) override {
    ++calls;
    return t == "good";
  }
  bool verifyJwt(const ir::Group&, const ir::Realm&, std::string_view t, int64_t) override {
    ++calls;
    return t == "good";
  }
  int calls = 0;
};

ir::Id96 id(uint8_t tag) {
  ir::Id96 v{};
  v.fill(tag);
  return v;
}

ir::Group ipGroup(std::string name, const char* cidr, ir::ServiceSet services) {
  ir::Group g;
  g.name = std::move(name);
  g.has_ip = true;
  net::addToSet(g.ip, *net::parseCidr(cidr));
  g.grants.push_back({services, ir::kAllMethods, {}});
  return g;
}

ir::Group credGroup(std::string name, ir::CredentialKind kind, ir::Grant grant) {
  ir::Group g;
  g.name = std::move(name);
  g.credential = kind;
  g.grants.push_back(std::move(grant));
  return g;
}

class InterpreterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ir::Realm realm;
    realm.name = "acme";
    // Block 0: project default, deny; staff may use http everywhere, devops
    // the terminal, monitoring GET/HEAD on http with a bearer token.
    ir::PermissionBlock project;
    project.origin = "project production";
    project.groups.push_back(ipGroup("devops", "203.0.113.0/24", ir::bit(ir::Service::Terminal)));
    project.groups.push_back(credGroup(
        "monitoring", ir::CredentialKind::Bearer,
        {ir::bit(ir::Service::Http), ir::bit(ir::Method::Get) | ir::bit(ir::Method::Head), {}}));
    project.groups.push_back(
        credGroup("staff", ir::CredentialKind::Password, {ir::bit(ir::Service::Http), ir::kAllMethods, {}}));
    realm.blocks.push_back(project);
    // Block 1: container override; only admins on /admin, public elsewhere
    // is not granted at all.
    ir::PermissionBlock override_block;
    override_block.origin = "container api";
    override_block.groups.push_back(credGroup(
        "admins", ir::CredentialKind::Jwt, {ir::bit(ir::Service::Http), ir::kAllMethods, {"/admin"}}));
    override_block.groups.push_back(ipGroup("world", "0.0.0.0/0", ir::bit(ir::Service::Exec)));
    realm.blocks.push_back(override_block);
    // Block 2: present but empty.
    ir::PermissionBlock empty;
    empty.origin = "container locked";
    realm.blocks.push_back(empty);
    // Block 3: default allow http only.
    ir::PermissionBlock open;
    open.origin = "container open";
    open.default_allow = ir::bit(ir::Service::Http);
    open.groups.push_back(credGroup("ops", ir::CredentialKind::Password,
                                    {ir::kAllServices, ir::kAllMethods, {}}));
    realm.blocks.push_back(open);

    auto add = [&](const char* name, uint8_t tag, uint32_t block, bool maintenance) {
      ir::Container c;
      c.name = name;
      c.project = "production";
      c.id = id(tag);
      c.project_id = id(0xee);
      c.block = block;
      c.maintenance = maintenance;
      realm.containers.push_back(c);
    };
    add("worker", 1, 0, false);
    add("api", 2, 1, false);
    add("db", 3, 0, true);
    add("locked", 4, 2, false);
    add("open", 5, 3, false);
    ir::Policy p;
    p.realms.push_back(realm);
    interp_ = std::make_unique<Interpreter>(std::make_shared<ir::Policy>(p));
  }

  Decision decide(uint8_t tag, ir::Service s, const char* client, ir::Method m = ir::Method::Get,
                  std::string_view path = "/", Credentials creds = {}) {
    creds_ = std::move(creds);
    RequestFacts f;
    f.host.container = id(tag);
    f.host.project = id(0xee);
    f.host.service = s;
    f.client = *net::parseAddress(client);
    f.method = m;
    f.path = path;
    f.credentials = &creds_;
    return interp_->decide(f, verifier_);
  }

  static Credentials bearer(const char* token) {
    Credentials c;
    c.kind = Credentials::Kind::Bearer;
    c.token = token;
    return c;
  }
  static Credentials basic(const char* password) {
    Credentials c;
    c.kind = Credentials::Kind::Basic;
    c.user = "u";
    c.password = password;
    return c;
  }

  std::unique_ptr<Interpreter> interp_;
  FakeVerifier verifier_;
  Credentials creds_;
};

TEST_F(InterpreterTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(decide(9, ir::Service::Http, "203.0.113.1").outcome, Outcome::NotFound);
  RequestFacts f;
  f.host.container = id(1);
  f.host.project = id(0xed);  // right container, wrong project
  EXPECT_EQ(interp_->decide(f, verifier_).outcome, Outcome::NotFound);
}

TEST_F(InterpreterTest, MaintenanceComesBeforePermissions) {
  Decision d = decide(3, ir::Service::Terminal, "203.0.113.1");
  EXPECT_EQ(d.outcome, Outcome::Maintenance);
  EXPECT_EQ(statusOf(d.outcome), 503);
}

TEST_F(InterpreterTest, IpGroupGrantsItsServicesOnly) {
  Decision d = decide(1, ir::Service::Terminal, "203.0.113.77");
  EXPECT_EQ(d.outcome, Outcome::Allow);
  EXPECT_EQ(d.group, 0);
  EXPECT_EQ(decide(1, ir::Service::Files, "203.0.113.77").outcome, Outcome::Forbidden);
  EXPECT_EQ(decide(1, ir::Service::Terminal, "198.51.100.7").outcome, Outcome::Forbidden);
}

TEST_F(InterpreterTest, MappedClientMatchesIpv4Range) {
  EXPECT_EQ(decide(1, ir::Service::Terminal, "::ffff:203.0.113.9").outcome, Outcome::Allow);
  EXPECT_EQ(decide(1, ir::Service::Terminal, "2001:db8::5").outcome, Outcome::Forbidden);
}

TEST_F(InterpreterTest, MissingCredentialGives401WithChallenges) {
  Decision d = decide(1, ir::Service::Http, "198.51.100.7");
  EXPECT_EQ(d.outcome, Outcome::Unauthorized);
  EXPECT_EQ(d.challenges, kChallengeBasic | kChallengeBearer);
  EXPECT_EQ(verifier_.calls, 0);
}

TEST_F(InterpreterTest, MethodNarrowingLeavesOnlyMatchingChallenges) {
  // monitoring grants GET and HEAD only, so a POST can only be met by staff.
  Decision d = decide(1, ir::Service::Http, "198.51.100.7", ir::Method::Post);
  EXPECT_EQ(d.outcome, Outcome::Unauthorized);
  EXPECT_EQ(d.challenges, kChallengeBasic);
}

TEST_F(InterpreterTest, ValidBearerGrants) {
  Decision d = decide(1, ir::Service::Http, "198.51.100.7", ir::Method::Get, "/", bearer("good"));
  EXPECT_EQ(d.outcome, Outcome::Allow);
  EXPECT_EQ(d.group, 1);
  EXPECT_EQ(verifier_.calls, 1);
}

TEST_F(InterpreterTest, WrongBearerIsUnauthorized) {
  Decision d = decide(1, ir::Service::Http, "198.51.100.7", ir::Method::Get, "/", bearer("bad"));
  EXPECT_EQ(d.outcome, Outcome::Unauthorized);
}

TEST_F(InterpreterTest, BasicCredentialsAreNotTriedAgainstBearerGroups) {
  Decision d = decide(1, ir::Service::Http, "198.51.100.7", ir::Method::Get, "/", basic("good"));
  EXPECT_EQ(d.outcome, Outcome::Allow);
  EXPECT_EQ(d.group, 2);
  EXPECT_EQ(verifier_.calls, 1);
}

TEST_F(InterpreterTest, OverrideReplacesProjectBlock) {
  // The project's devops group does not reach the override container.
  EXPECT_EQ(decide(2, ir::Service::Terminal, "203.0.113.77").outcome, Outcome::Forbidden);
  // The override's admins are limited to /admin.
  EXPECT_EQ(decide(2, ir::Service::Http, "203.0.113.77", ir::Method::Get, "/admin/users",
                   bearer("good"))
                .outcome,
            Outcome::Allow);
  EXPECT_EQ(decide(2, ir::Service::Http, "203.0.113.77", ir::Method::Get, "/reports",
                   bearer("good"))
                .outcome,
            Outcome::Forbidden);
  EXPECT_EQ(decide(2, ir::Service::Http, "203.0.113.77", ir::Method::Get, "/administrator",
                   bearer("good"))
                .outcome,
            Outcome::Forbidden);
}

TEST_F(InterpreterTest, VerifierSkippedWhenGrantDoesNotCover) {
  decide(2, ir::Service::Http, "203.0.113.77", ir::Method::Get, "/reports", bearer("good"));
  EXPECT_EQ(verifier_.calls, 0);
}

TEST_F(InterpreterTest, EmptyBlockDeniesEveryone) {
  for (auto s : {ir::Service::Http, ir::Service::Terminal, ir::Service::Ssh}) {
    for (const char* client : {"203.0.113.1", "::1", "0.0.0.0"}) {
      EXPECT_EQ(decide(4, s, client, ir::Method::Get, "/", bearer("good")).outcome,
                Outcome::Forbidden);
      EXPECT_EQ(decide(4, s, client, ir::Method::Get, "/", basic("good")).outcome,
                Outcome::Forbidden);
    }
  }
}

TEST_F(InterpreterTest, DefaultAllowNeedsNoVerifier) {
  Decision d = decide(5, ir::Service::Http, "198.51.100.7", ir::Method::Post, "/", basic("bad"));
  EXPECT_EQ(d.outcome, Outcome::Allow);
  EXPECT_EQ(d.group, -1);
  EXPECT_EQ(verifier_.calls, 0);
  EXPECT_EQ(decide(5, ir::Service::Files, "198.51.100.7").outcome, Outcome::Unauthorized);
}

TEST_F(InterpreterTest, IpOnlyGroupWinsBeforeVerifiers) {
  // On the override container, world grants exec by IP; a bearer token is
  // never checked for it.
  Decision d = decide(2, ir::Service::Exec, "198.51.100.7", ir::Method::Get, "/", bearer("bad"));
  EXPECT_EQ(d.outcome, Outcome::Allow);
  EXPECT_EQ(d.group, 1);
  EXPECT_EQ(verifier_.calls, 0);
}

}  // namespace
}  // namespace hoody::policy
