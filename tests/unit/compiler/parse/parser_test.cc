// SPDX-License-Identifier: Apache-2.0
// Tests of the policy parser: every construct parses into the expected tree,
// and syntax errors become located diagnostics.
#include "compiler/parse/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace hoody::parse {
namespace {

// Every statement form of the language, in the layout of the design notes.
constexpr const char* kEveryConstruct = R"(realm acme {
  group devops { ip 203.0.113.0/24; allow terminal, files }   # realm-level shared group
  provider mullvad { wireguard { endpoint 198.51.100.20:51820; public_key "base64=="; address 10.64.0.2/32 } }
  profile strict { base production; disk_encryption required; snapshots daily }
  project production id 9d0bd950bc7424d9091c0777 {
    profile production
    permissions {
      default deny
      default allow http, exec
      group devops
      group monitoring { bearer sha256:"aa", sha256:"bb"; allow http methods GET, HEAD paths "/metrics", "/health" }
      group admins { password { user "deploy" hash "$argon2id$v=19$m=1$s$h"; user "ops" hash "$7$x" }; allow all }
      group operators {
        jwt { issuer "https://auth.acme.example"; audience "ops"; algorithms ES256, RS256; key file "keys/ops.pub.pem"; leeway 30s;
              claim roles contains "viewer"; claim sub exists; claim tier equals "gold"; require_exp false; realm_claim "hoody_realm" }
        allow all
        forward_credentials
      }
      group office { ip 192.0.2.0/24, 2001:db8::/32; password { user "x" hash "h" }; allow files }
    }
    container public-api id d3c8422839f8bbb0b709cb20 {
      permissions { default deny }
      firewall { default deny; ingress allow tcp from 203.0.113.0/24 port 443; ingress allow tcp from 192.0.2.0/24 port 8000-8100; egress allow udp to 198.51.100.53 port 53; ingress deny icmp from 0.0.0.0/0; egress allow icmpv6 to ::/0 }
      network { ipv4 none; exit socks5 198.51.100.10:1080; dns 198.51.100.53, 198.51.100.54 }
      seccomp default { deny ptrace; deny mount, umount2 errno EPERM; kill kexec_load; log bpf; allow personality }
      state maintenance
    }
    container billing-db id 8ed98a5d1e70f8d15032ce78 { state maintenance }
    container worker id 1b2c3d4e5f60718293a4b5c6
    alias acme-billing-api -> public-api.http { target_path "/api/v1"; allow_path_override false; scrub_container_id true }
    test "operators need a token for the terminal" {
      request public-api.terminal from 198.51.100.7 method GET path "/" expect 401
      request public-api.http from 203.0.113.5 presenting monitoring expect 200 group world
    }
  }
}
)";

std::optional<ast::File> parseText(std::string_view text, diag::DiagnosticSink& sink) {
  return parseFile("p.hoody", text, sink);
}

TEST(ParserTest, ParsesEveryConstruct) {
  diag::DiagnosticSink sink;
  auto file = parseText(kEveryConstruct, sink);
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(sink.diagnostics().empty());
  ASSERT_EQ(file->realms.size(), 1u);
  const ast::Realm& realm = file->realms[0];
  EXPECT_EQ(realm.name.text, "acme");
  ASSERT_EQ(realm.groups.size(), 1u);
  EXPECT_EQ(realm.groups[0].body.ip[0].text, "203.0.113.0/24");
  ASSERT_EQ(realm.providers.size(), 1u);
  ASSERT_TRUE(realm.providers[0].wireguard.has_value());
  EXPECT_EQ(realm.providers[0].wireguard->endpoint->text, "198.51.100.20:51820");
  ASSERT_EQ(realm.profiles.size(), 1u);
  EXPECT_EQ(realm.profiles[0].base->text, "production");
  EXPECT_EQ(realm.profiles[0].snapshots->text, "daily");

  ASSERT_EQ(realm.projects.size(), 1u);
  const ast::Project& project = realm.projects[0];
  EXPECT_EQ(project.id.text, "9d0bd950bc7424d9091c0777");
  EXPECT_EQ(project.profile->text, "production");
  ASSERT_TRUE(project.permissions.has_value());
  const ast::PermissionsBlock& block = *project.permissions;
  ASSERT_EQ(block.defaults.size(), 2u);
  EXPECT_FALSE(block.defaults[0].allow);
  EXPECT_TRUE(block.defaults[0].services.empty());
  EXPECT_TRUE(block.defaults[1].allow);
  ASSERT_EQ(block.defaults[1].services.size(), 2u);
  EXPECT_EQ(block.defaults[1].services[1].text, "exec");
  ASSERT_EQ(block.groups.size(), 5u);
  EXPECT_FALSE(block.groups[0].body.has_value());

  const ast::GroupBody& monitoring = *block.groups[1].body;
  ASSERT_EQ(monitoring.bearers.size(), 1u);
  EXPECT_EQ(monitoring.bearers[0].digests.size(), 2u);
  EXPECT_TRUE(monitoring.bearers[0].digests[0].has_prefix);
  EXPECT_EQ(monitoring.bearers[0].digests[1].hex, "bb");
  ASSERT_EQ(monitoring.grants.size(), 1u);
  EXPECT_EQ(monitoring.grants[0].methods.size(), 2u);
  ASSERT_EQ(monitoring.grants[0].paths.size(), 2u);
  EXPECT_EQ(monitoring.grants[0].paths[1].value, "/health");

  const ast::GroupBody& admins = *block.groups[2].body;
  ASSERT_EQ(admins.passwords.size(), 1u);
  ASSERT_EQ(admins.passwords[0].users.size(), 2u);
  EXPECT_EQ(admins.passwords[0].users[0].user.value, "deploy");
  EXPECT_EQ(admins.passwords[0].users[1].hash->value, "$7$x");

  const ast::GroupBody& operators = *block.groups[3].body;
  ASSERT_EQ(operators.jwts.size(), 1u);
  const ast::JwtCondition& jwt = operators.jwts[0];
  EXPECT_EQ(jwt.issuer->value, "https://auth.acme.example");
  EXPECT_EQ(jwt.algorithms.size(), 2u);
  EXPECT_EQ(jwt.key_file->value, "keys/ops.pub.pem");
  EXPECT_EQ(jwt.leeway->text, "30s");
  ASSERT_EQ(jwt.claims.size(), 3u);
  EXPECT_EQ(jwt.claims[0].op, ast::ClaimOp::Contains);
  EXPECT_EQ(jwt.claims[1].op, ast::ClaimOp::Exists);
  EXPECT_EQ(jwt.claims[2].value.value, "gold");
  EXPECT_FALSE(jwt.require_exp->value);
  EXPECT_EQ(jwt.realm_claim->value, "hoody_realm");
  EXPECT_TRUE(operators.forward_credentials.has_value());

  const ast::GroupBody& office = *block.groups[4].body;
  EXPECT_EQ(office.ip.size(), 2u);
  EXPECT_EQ(office.ip[1].text, "2001:db8::/32");
  EXPECT_EQ(office.passwords.size(), 1u);

  ASSERT_EQ(project.containers.size(), 3u);
  const ast::Container& api = project.containers[0];
  EXPECT_EQ(api.name.text, "public-api");
  ASSERT_TRUE(api.firewall.has_value());
  EXPECT_FALSE(api.firewall->default_rule->allow);
  ASSERT_EQ(api.firewall->rules.size(), 5u);
  EXPECT_EQ(api.firewall->rules[1].ports[0].text, "8000-8100");
  EXPECT_EQ(api.firewall->rules[2].direction.text, "egress");
  EXPECT_EQ(api.firewall->rules[4].addresses[0].text, "::/0");
  ASSERT_TRUE(api.network.has_value());
  EXPECT_EQ(api.network->ipv4->text, "none");
  ASSERT_EQ(api.network->exits.size(), 1u);
  EXPECT_EQ(api.network->exits[0].scheme.text, "socks5");
  EXPECT_EQ(api.network->dns.size(), 2u);
  ASSERT_TRUE(api.seccomp.has_value());
  EXPECT_EQ(api.seccomp->base->text, "default");
  ASSERT_EQ(api.seccomp->rules.size(), 5u);
  EXPECT_EQ(api.seccomp->rules[1].errno_name->text, "EPERM");
  EXPECT_EQ(api.seccomp->rules[2].action.text, "kill");
  EXPECT_EQ(api.state->text, "maintenance");
  EXPECT_FALSE(project.containers[2].permissions.has_value());

  ASSERT_EQ(project.aliases.size(), 1u);
  EXPECT_EQ(project.aliases[0].target.text, "public-api.http");
  EXPECT_FALSE(project.aliases[0].allow_path_override->value);
  ASSERT_EQ(project.tests.size(), 1u);
  ASSERT_EQ(project.tests[0].requests.size(), 2u);
  const ast::TestRequest& second = project.tests[0].requests[1];
  EXPECT_EQ(second.client.text, "203.0.113.5");
  EXPECT_EQ(second.presenting->text, "monitoring");
  EXPECT_EQ(second.expect_status.text, "200");
  EXPECT_EQ(second.expect_group->text, "world");
}

TEST(ParserTest, SpansPointAtTokens) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a {\n  project p id 0123 {\n  }\n}\n", sink);
  ASSERT_TRUE(file.has_value());
  const ast::Word& id = file->realms[0].projects[0].id;
  EXPECT_EQ(id.span.line, 2);
  EXPECT_EQ(id.span.column, 16);
  EXPECT_EQ(id.span.end_column, 20);
}

TEST(ParserTest, KeywordsAreAcceptedAsNames) {
  diag::DiagnosticSink sink;
  auto file = parseText(
      "realm test { project network id x { container state id y { state active } "
      "permissions { group permissions { allow http } } } }",
      sink);
  ASSERT_TRUE(file.has_value()) << sink.diagnostics().front().message;
  EXPECT_EQ(file->realms[0].name.text, "test");
  EXPECT_EQ(file->realms[0].projects[0].containers[0].name.text, "state");
}

TEST(ParserTest, NewlinesAndSemicolonsSeparateStatements) {
  diag::DiagnosticSink sink;
  auto with_newlines = parseText("realm a {\n project p id x {\n permissions {\n default deny\n "
                                 "group g {\n ip 192.0.2.0/24\n allow http\n }\n }\n }\n}\n",
                                 sink);
  auto with_semicolons =
      parseText("realm a { project p id x { permissions { default deny; group g { ip "
                "192.0.2.0/24; allow http; }; }; }; }",
                sink);
  ASSERT_TRUE(with_newlines.has_value());
  ASSERT_TRUE(with_semicolons.has_value());
  EXPECT_EQ(with_newlines->realms[0].projects[0].permissions->groups[0].body->grants.size(), 1u);
  EXPECT_EQ(with_semicolons->realms[0].projects[0].permissions->groups[0].body->ip.size(), 1u);
}

TEST(ParserTest, DecodesStringEscapes) {
  diag::DiagnosticSink sink;
  auto file = parseText(R"(realm a { project p id x { test "say \"hi\" \\ now" { } } })", sink);
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->realms[0].projects[0].tests[0].name.value, "say \"hi\" \\ now");
}

TEST(ParserTest, ReportsUnknownEscape) {
  diag::DiagnosticSink sink;
  auto file = parseText(R"(realm a { project p id x { test "a\qb" { } } })", sink);
  ASSERT_TRUE(file.has_value());
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].code, "invalid-escape");
  EXPECT_EQ(sink.diagnostics()[0].span.column, 35);
}

TEST(ParserTest, NonAsciiTextKeepsColumnsAndText) {
  diag::DiagnosticSink sink;
  // "é" takes two bytes and "☕" three, but columns count code points.
  auto file = parseText(
      "realm a { # café\n project p id x { test \"café ☕\" { } container c id "
      "y } }",
      sink);
  ASSERT_TRUE(file.has_value()) << sink.diagnostics().front().message;
  const ast::Project& project = file->realms[0].projects[0];
  EXPECT_EQ(project.tests[0].name.value, "café ☕");
  const ast::Word& id = project.containers[0].id;
  EXPECT_EQ(id.text, "y");
  EXPECT_EQ(id.span.line, 2);
  EXPECT_EQ(id.span.column, 52);
}

TEST(ParserTest, CommentsAreIgnored) {
  diag::DiagnosticSink sink;
  auto file = parseText("# leading\nrealm a { // trailing\n  # inside\n}\n", sink);
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->realms.size(), 1u);
}

TEST(ParserTest, SyntaxErrorHasLocation) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a {\n  project p {\n  }\n}\n", sink);
  EXPECT_FALSE(file.has_value());
  ASSERT_FALSE(sink.diagnostics().empty());
  const diag::Diagnostic& d = sink.diagnostics()[0];
  EXPECT_EQ(d.code, "syntax-error");
  EXPECT_EQ(d.span.line, 2);
  EXPECT_EQ(d.span.column, 13);
  EXPECT_EQ(d.message, "unexpected `{`; expected `id`");
}

TEST(ParserTest, MissingBraceAtEndOfFile) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a {\n  project p id x {\n", sink);
  EXPECT_FALSE(file.has_value());
  ASSERT_FALSE(sink.diagnostics().empty());
  EXPECT_EQ(sink.diagnostics()[0].code, "syntax-error");
  EXPECT_EQ(sink.diagnostics()[0].span.line, 3);
  EXPECT_NE(sink.diagnostics()[0].message.find("end of file"), std::string::npos);
}

TEST(ParserTest, UnexpectedCharacter) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a { @ }", sink);
  EXPECT_FALSE(file.has_value());
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].message, "unexpected character `@`");
  EXPECT_EQ(sink.diagnostics()[0].span.column, 11);
}

TEST(ParserTest, UnterminatedString) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a { project p id x { test \"abc\n } } }", sink);
  EXPECT_FALSE(file.has_value());
  ASSERT_FALSE(sink.diagnostics().empty());
  EXPECT_EQ(sink.diagnostics()[0].message, "string is missing its closing `\"`");
  EXPECT_EQ(sink.diagnostics()[0].span.column, 33);
}

TEST(ParserTest, InvalidUtf8IsLocated) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a {\n  \xff }", sink);
  EXPECT_FALSE(file.has_value());
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].code, "invalid-encoding");
  EXPECT_EQ(sink.diagnostics()[0].span.line, 2);
  EXPECT_EQ(sink.diagnostics()[0].span.column, 3);
}

TEST(ParserTest, SeveralSyntaxErrorsInOneRun) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a {\n project p id x {\n  profile }\n }\n project q {\n }\n}\n", sink);
  EXPECT_FALSE(file.has_value());
  EXPECT_GE(sink.errorCount(), 2u);
}

TEST(ParserTest, DuplicateSettingKeepsFirst) {
  diag::DiagnosticSink sink;
  auto file = parseText("realm a { project p id x { profile team\n profile open } }", sink);
  ASSERT_TRUE(file.has_value());
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_EQ(sink.diagnostics()[0].code, "duplicate-setting");
  EXPECT_EQ(sink.diagnostics()[0].span.line, 2);
  EXPECT_EQ(file->realms[0].projects[0].profile->text, "team");
}

TEST(ParserTest, MalformedAddressesReachTheChecker) {
  // Values are validated by the checker, so malformed addresses parse.
  diag::DiagnosticSink sink;
  auto file = parseText(
      "realm a { group g { ip 203.0.113.010/32, 0xCB.0.113.10, 203.0.29450, 203.0.113.10., "
      "203.0.113.1e1, ::ffff:192.0.2.0/120; allow http } }",
      sink);
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->realms[0].groups[0].body.ip.size(), 6u);
  EXPECT_EQ(file->realms[0].groups[0].body.ip[3].text, "203.0.113.10.");
}

}  // namespace
}  // namespace hoody::parse
