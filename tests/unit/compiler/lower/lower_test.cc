// SPDX-License-Identifier: Apache-2.0
// Tests of lowering to the decision IR: inheritance versus override, empty
// versus absent, CIDR merging, bitsets, credentials and order independence.
#include "compiler/lower/lower.h"

#include "runtime/abi/address.h"
#include "runtime/auth/auth.h"
#include "runtime/policy/interpreter.h"
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

const ir::Realm& realmOf(const driver::FrontEndOutput& out) { return out.policy.realms.at(0); }

const ir::Container& containerNamed(const ir::Realm& realm, const std::string& name) {
  for (const ir::Container& c : realm.containers) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no container " << name;
  return realm.containers.front();
}

const ir::PermissionBlock& blockOf(const ir::Realm& realm, const std::string& container) {
  return realm.blocks.at(containerNamed(realm, container).block);
}

ir::IpAddress address(const char* text) { return *net::parseAddress(text); }

TEST(LowerTest, ContainerWithoutBlockInheritsProjectBlock) {
  auto out = check(inProject("permissions { group staff { ip 192.0.2.0/24; allow http } }\n" +
                             container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Realm& realm = realmOf(out);
  ASSERT_EQ(realm.blocks.size(), 1u);
  EXPECT_EQ(containerNamed(realm, "a").block, 0u);
  EXPECT_EQ(realm.blocks[0].origin, "project p");
  ASSERT_EQ(realm.blocks[0].groups.size(), 1u);
  EXPECT_EQ(realm.blocks[0].groups[0].name, "staff");
}

TEST(LowerTest, ContainerBlockReplacesProjectBlockCompletely) {
  auto out = check(inProject(
      "permissions { default allow http\n group staff { ip 192.0.2.0/24; allow http } }\n" +
      container("a", kContainerA,
                "permissions { group admins { ip 198.51.100.0/24; allow http paths \"/admin\" } }") +
      container("b", kContainerB)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Realm& realm = realmOf(out);
  const ir::PermissionBlock& a = blockOf(realm, "a");
  EXPECT_EQ(a.origin, "container a");
  EXPECT_EQ(a.default_allow, ir::kNoServices) << "the project's default must not leak in";
  ASSERT_EQ(a.groups.size(), 1u);
  EXPECT_EQ(a.groups[0].name, "admins");
  EXPECT_EQ(a.groups[0].grants[0].path_prefixes, std::vector<std::string>{"/admin"});

  const ir::PermissionBlock& b = blockOf(realm, "b");
  EXPECT_EQ(b.origin, "project p");
  EXPECT_EQ(b.default_allow, ir::bit(ir::Service::Http));
}

TEST(LowerTest, OverrideIsIndependentOfDeclarationOrder) {
  std::string project_block = "permissions { group staff { ip 192.0.2.0/24; allow http } }\n";
  std::string override_container = container(
      "a", kContainerA, "permissions { group admins { ip 198.51.100.0/24; allow http paths \"/admin\" } }");
  auto before = check(inProject(project_block + override_container + container("b", kContainerB)));
  auto after = check(inProject(container("b", kContainerB) + override_container + project_block));
  ASSERT_TRUE(before.ok && after.ok);
  for (const char* name : {"a", "b"}) {
    EXPECT_EQ(blockOf(realmOf(before), name), blockOf(realmOf(after), name)) << name;
  }
}

TEST(LowerTest, AbsentProjectBlockIsDefaultDenyWithoutGroups) {
  auto out = check(inProject(container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::PermissionBlock& block = blockOf(realmOf(out), "a");
  EXPECT_EQ(block.default_allow, ir::kNoServices);
  EXPECT_TRUE(block.groups.empty());
  EXPECT_EQ(block.origin, "project p");
}

TEST(LowerTest, EmptyContainerBlockDeniesInsteadOfInheriting) {
  auto out = check(inProject("permissions { default allow http\n group staff { ip 192.0.2.0/24; "
                             "allow all } }\n" +
                             container("a", kContainerA, "permissions { }")));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::PermissionBlock& block = blockOf(realmOf(out), "a");
  EXPECT_EQ(block.default_allow, ir::kNoServices);
  EXPECT_TRUE(block.groups.empty());
  EXPECT_EQ(block.origin, "container a");
}

TEST(LowerTest, CidrsAreMergedIntoSortedRanges) {
  auto out = check(inProject(
      "permissions { group office { ip 192.0.2.0/24, 192.0.2.128/25, 192.0.2.7, 192.0.2.0/24, "
      "198.51.100.0/25, 198.51.100.128/25, 2001:db8::/32, 2001:db8:1::/48; allow http } }\n" +
      container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Group& g = blockOf(realmOf(out), "a").groups.at(0);
  EXPECT_TRUE(g.has_ip);
  ASSERT_EQ(g.ip.v4.size(), 2u);
  EXPECT_EQ(g.ip.v4[0].first, address("192.0.2.0").v4);
  EXPECT_EQ(g.ip.v4[0].last, address("192.0.2.255").v4);
  EXPECT_EQ(g.ip.v4[1].first, address("198.51.100.0").v4);
  EXPECT_EQ(g.ip.v4[1].last, address("198.51.100.255").v4);
  ASSERT_EQ(g.ip.v6.size(), 1u);
  EXPECT_EQ(g.ip.v6[0].first, address("2001:db8::").v6);
  EXPECT_EQ(g.ip.v6[0].last, address("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff").v6);
}

TEST(LowerTest, ServicesMethodsAndPathsBecomeBitsets) {
  auto out = check(inProject(
      "permissions { default deny\n default allow http, exec\n"
      " group ro { ip 192.0.2.0/24; allow http, files methods GET, HEAD paths \"/metrics/\", "
      "\"/health\"\n allow all } }\n" +
      container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::PermissionBlock& block = blockOf(realmOf(out), "a");
  EXPECT_EQ(block.default_allow, ir::bit(ir::Service::Http) | ir::bit(ir::Service::Exec));
  const ir::Group& g = block.groups.at(0);
  ASSERT_EQ(g.grants.size(), 2u);
  EXPECT_EQ(g.grants[0].services, ir::bit(ir::Service::Http) | ir::bit(ir::Service::Files));
  EXPECT_EQ(g.grants[0].methods, ir::bit(ir::Method::Get) | ir::bit(ir::Method::Head));
  EXPECT_EQ(g.grants[0].path_prefixes, (std::vector<std::string>{"/metrics/", "/health"}));
  EXPECT_EQ(g.grants[1].services, ir::kAllServices);
  EXPECT_EQ(g.grants[1].methods, ir::kAllMethods);
  EXPECT_TRUE(g.grants[1].path_prefixes.empty());
}

TEST(LowerTest, TrailingSlashPrefixMatchesOnlyBelow) {
  auto out = check(inProject(
      "permissions { group admins { ip 192.0.2.0/24; allow http paths \"/admin/\" }\n"
      " group status { ip 192.0.2.0/24; allow http paths \"/status\" } }\n" +
      container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::PermissionBlock& block = blockOf(realmOf(out), "a");
  const ir::Grant& below = block.groups.at(0).grants.at(0);
  EXPECT_FALSE(policy::grantCovers(below, ir::Service::Http, ir::Method::Get, "/admin"));
  EXPECT_TRUE(policy::grantCovers(below, ir::Service::Http, ir::Method::Get, "/admin/"));
  EXPECT_TRUE(policy::grantCovers(below, ir::Service::Http, ir::Method::Get, "/admin/users"));
  const ir::Grant& itself = block.groups.at(1).grants.at(0);
  EXPECT_TRUE(policy::grantCovers(itself, ir::Service::Http, ir::Method::Get, "/status"));
  EXPECT_TRUE(policy::grantCovers(itself, ir::Service::Http, ir::Method::Get, "/status/x"));
  EXPECT_FALSE(policy::grantCovers(itself, ir::Service::Http, ir::Method::Get, "/statuses"));
}

TEST(LowerTest, RealmGroupReferencesAreCopiedIn) {
  std::string text = std::string("realm r { group devops { ip 203.0.113.0/24; allow terminal }\n") +
                     " project p id " + kProjectId + " { permissions { group devops }\n" +
                     container("a", kContainerA, "permissions { group devops\n group x { ip "
                                                 "192.0.2.0/24; allow http } }") +
                     container("b", kContainerB) + " } }\n";
  auto out = check(text);
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Realm& realm = realmOf(out);
  EXPECT_EQ(blockOf(realm, "a").groups.at(0), blockOf(realm, "b").groups.at(0));
  EXPECT_EQ(blockOf(realm, "a").groups.at(0).grants.at(0).services, ir::bit(ir::Service::Terminal));
}

TEST(LowerTest, InlineGroupIsNotTakenForRealmGroup) {
  // Realm groups are lowered once and reused. An inline group of the same
  // name in another block is a group of its own.
  std::string text = std::string("realm r { group g { ip 203.0.113.0/24; allow terminal }\n") +
                     " project p id " + kProjectId + " { permissions { group g }\n" +
                     container("a", kContainerA,
                               "permissions { group g { ip 192.0.2.0/24; allow "
                               "http } }") +
                     container("b", kContainerB, "permissions { group g }") + " } }\n";
  auto out = check(text);
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Realm& realm = realmOf(out);
  const ir::Group& inline_group = blockOf(realm, "a").groups.at(0);
  EXPECT_EQ(inline_group.grants.at(0).services, ir::bit(ir::Service::Http));
  EXPECT_TRUE(net::setContains(inline_group.ip, address("192.0.2.1")));
  EXPECT_FALSE(net::setContains(inline_group.ip, address("203.0.113.1")));
  const ir::Group& shared = blockOf(realm, "b").groups.at(0);
  EXPECT_EQ(shared.grants.at(0).services, ir::bit(ir::Service::Terminal));
  EXPECT_TRUE(net::setContains(shared.ip, address("203.0.113.1")));
  EXPECT_EQ(shared, realm.blocks.at(0).groups.at(0));
}

TEST(LowerTest, BearerDigestsAreDecoded) {
  std::string hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  auto out = check(inProject("permissions { group m { bearer sha256:\"" + hex + "\", sha256:\"" +
                             std::string(64, 'A') + "\"; allow http } }\n" +
                             container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Group& g = blockOf(realmOf(out), "a").groups.at(0);
  EXPECT_EQ(g.credential, ir::CredentialKind::Bearer);
  ASSERT_EQ(g.bearer_sha256.size(), 2u);
  EXPECT_EQ(g.bearer_sha256[0][0], 0x9f);
  EXPECT_EQ(g.bearer_sha256[0][31], 0x08);
  EXPECT_EQ(g.bearer_sha256[1][0], 0xaa);
}

TEST(LowerTest, JwtKeyIsInlinedFromTheKeyFile) {
  TempDir dir;
  std::string pem;
  {
    std::ifstream in(std::string(HOODY_SOURCE_DIR) + "/policies/keys/operators.pub.pem");
    pem.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_FALSE(pem.empty());
  dir.write("keys/ops.pem", pem);
  std::string text = inProject(
      "permissions { group ops { jwt { issuer \"https://idp.example/\"; audience \"terminal\", "
      "\"files\"; algorithms ES256; key file \"keys/ops.pem\"; leeway 2m; claim roles contains "
      "\"viewer\"; claim sub exists; require_exp false; realm_claim \"hoody_realm\" }\n"
      " allow terminal; forward_credentials } }\n" +
      container("a", kContainerA));
  driver::FrontEndOptions options;
  options.files.push_back(dir.write("p.hoody", text));
  auto out = driver::runFrontEnd(options);
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Group& g = blockOf(realmOf(out), "a").groups.at(0);
  EXPECT_EQ(g.credential, ir::CredentialKind::Jwt);
  ASSERT_TRUE(g.jwt.has_value());
  EXPECT_EQ(g.jwt->key_pem, pem);
  EXPECT_EQ(g.jwt->algorithms, std::vector<std::string>{"ES256"});
  EXPECT_EQ(g.jwt->issuer, "https://idp.example/");
  EXPECT_EQ(g.jwt->audiences, (std::vector<std::string>{"terminal", "files"}));
  EXPECT_EQ(g.jwt->leeway_seconds, 120u);
  EXPECT_FALSE(g.jwt->require_exp);
  ASSERT_EQ(g.jwt->claims.size(), 2u);
  EXPECT_EQ(g.jwt->claims[0].op, ir::ClaimOp::Contains);
  EXPECT_EQ(g.jwt->claims[0].value, "viewer");
  EXPECT_EQ(g.jwt->claims[1].op, ir::ClaimOp::Exists);
  EXPECT_EQ(g.jwt->realm_claim, "hoody_realm");
  EXPECT_TRUE(g.forward_credentials);
}

TEST(LowerTest, PasswordsAndContainerFacts) {
  std::string hash = *auth::hashPassword("correct horse");
  auto out = check(inProject("permissions { group admins { password { user \"deploy\" hash \"" + hash +
                             "\" }; allow all } }\n" +
                             container("a", kContainerA, "state maintenance")));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Realm& realm = realmOf(out);
  const ir::Container& a = containerNamed(realm, "a");
  EXPECT_TRUE(a.maintenance);
  EXPECT_EQ(a.project, "p");
  EXPECT_EQ(a.id[0], 0x0f);
  EXPECT_EQ(a.project_id[0], 0x6a);
  const ir::Group& g = realm.blocks.at(a.block).groups.at(0);
  EXPECT_EQ(g.credential, ir::CredentialKind::Password);
  ASSERT_EQ(g.passwords.size(), 1u);
  EXPECT_EQ(g.passwords[0].user, "deploy");
  EXPECT_EQ(g.passwords[0].hash, hash);
}

TEST(LowerTest, SeveralRealmsStaySeparate) {
  std::string text = std::string("realm a { project p id ") + kProjectId + " { container x id " +
                     kContainerA + " } }\nrealm b { project q id " + kContainerB +
                     " { container y id " + kContainerC + " } }\n";
  auto out = check(text);
  ASSERT_TRUE(out.ok) << rendered(out);
  ASSERT_EQ(out.policy.realms.size(), 2u);
  EXPECT_EQ(out.policy.realms[0].name, "a");
  EXPECT_EQ(out.policy.realms[1].containers.at(0).name, "y");
  EXPECT_EQ(out.policy.realms[1].containers.at(0).block, 0u);
}

}  // namespace
}  // namespace hoody::testing
