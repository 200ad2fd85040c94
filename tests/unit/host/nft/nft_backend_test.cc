// SPDX-License-Identifier: Apache-2.0
// Tests for the nftables back end: the text emitted for every rule kind,
// defaults, IPv4 modes, exits, DNS, anti-spoofing, digests and JSON.
#include "compiler/backend/nft/nft_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "tests/unit/host/support/host_builder.h"

namespace hoody::nft {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using hoody::testing::address;
using hoody::testing::container;
using hoody::testing::rule;
using ir::Direction;
using ir::Protocol;

constexpr const char* kIdA = "0f3e2d1c4b5a69788796a5b4";
constexpr const char* kIdB = "9c8b7a6f5e4d3c2b1a0f9e8d";

// Returns the rules of chain `name` in `text`, one per line, without
// indentation and without the digest comment of the last rule.
std::vector<std::string> chainRules(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> rules;
  bool inside = false;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of('\t');
    std::string body = start == std::string::npos ? "" : line.substr(start);
    if (body == "chain " + name + " {") {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (body == "}") break;
    if (body.rfind("type filter hook", 0) == 0) continue;
    size_t digest = body.find(" comment \"digest ");
    if (digest != std::string::npos) body = body.substr(0, digest);
    rules.push_back(body);
  }
  return rules;
}

std::vector<std::string> ingressOf(const ir::HostContainer& c) {
  ir::HostPolicy host;
  host.containers.push_back(c);
  return chainRules(emitRuleset(host).text, "in_" + idHex(c.id));
}

std::vector<std::string> egressOf(const ir::HostContainer& c) {
  ir::HostPolicy host;
  host.containers.push_back(c);
  return chainRules(emitRuleset(host).text, "out_" + idHex(c.id));
}

ir::HostContainer publicContainer() {
  ir::HostContainer c = container("web", kIdA, "veth-web");
  testing::setNetwork(c, ir::Ipv4Mode::Public);
  return c;
}

TEST(NftBackendTest, BaseChainsDispatchThroughMaps) {
  ir::HostPolicy host;
  host.containers.push_back(container("web", kIdA, "veth-web"));
  Ruleset rs = emitRuleset(host);
  EXPECT_THAT(rs.text, HasSubstr("table inet hoody {"));
  EXPECT_THAT(chainRules(rs.text, "forward"),
              ElementsAre("ct state established,related accept", "ct state invalid drop",
                          "iifname vmap @egress", "oifname vmap @ingress"));
  EXPECT_THAT(chainRules(rs.text, "input"),
              ElementsAre("ct state established,related accept",
                          "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                          "nd-neighbor-advert } ip6 hoplimit 255 accept",
                          "iifname vmap @egress"));
  EXPECT_THAT(rs.text, HasSubstr("type filter hook forward priority filter; policy accept;"));
  EXPECT_THAT(rs.text, HasSubstr("type filter hook input priority filter; policy accept;"));
  EXPECT_THAT(rs.text, ::testing::ContainsRegex(
                           "\"veth-web\" comment \"digest [0-9a-f]{16} acme/shop/web\" : "
                           "jump in_0f3e2d1c4b5a69788796a5b4"));
  EXPECT_THAT(rs.text, ::testing::ContainsRegex(
                           "\"veth-web\" comment \"digest [0-9a-f]{16} acme/shop/web\" : "
                           "jump out_0f3e2d1c4b5a69788796a5b4"));
  EXPECT_EQ(rs.chains, 4u);
}

TEST(NftBackendTest, NoFirewallDeniesBothWays) {
  ir::HostContainer c = container("web", kIdA, "veth-web");
  EXPECT_THAT(ingressOf(c), ElementsAre("meta nfproto ipv4 drop",
                                        "ip6 saddr ::ffff:0.0.0.0/96 drop", "drop"));
  EXPECT_THAT(egressOf(c), ElementsAre("ct state invalid drop", "meta nfproto ipv4 drop",
                                       "ip6 daddr ::ffff:0.0.0.0/96 drop", "drop"));
}

TEST(NftBackendTest, DefaultAllowAcceptsAndReturns) {
  ir::HostContainer c = publicContainer();
  c.firewall.ingress_allow = true;
  c.firewall.egress_allow = true;
  EXPECT_EQ(ingressOf(c).back(), "accept");
  EXPECT_EQ(egressOf(c).back(), "return");
}

TEST(NftBackendTest, IngressTcpRuleWithPeersAndPorts) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Tcp,
                                  {"203.0.113.0/24", "2001:db8::/32"},
                                  {{22, 22}, {8000, 8100}}, "policies/team.hoody:12"));
  EXPECT_THAT(ingressOf(c),
              ElementsAre("ip6 saddr ::ffff:0.0.0.0/96 drop",
                          "ip saddr 203.0.113.0/24 tcp dport { 22, 8000-8100 } accept comment "
                          "\"policies/team.hoody:12\"",
                          "ip6 saddr 2001:db8::/32 tcp dport { 22, 8000-8100 } accept comment "
                          "\"policies/team.hoody:12\"",
                          "drop"));
}

TEST(NftBackendTest, EgressRulesReturnOrDrop) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(
      rule(Direction::Egress, false, Protocol::Tcp, {}, {{25, 25}, {465, 465}}, "a:1"));
  c.firewall.rules.push_back(
      rule(Direction::Egress, true, Protocol::Udp, {"198.51.100.53"}, {{53, 53}}, "a:2"));
  std::vector<std::string> rules = egressOf(c);
  EXPECT_THAT(rules, ::testing::Contains("tcp dport { 25, 465 } drop comment \"a:1\""));
  EXPECT_THAT(rules,
              ::testing::Contains("ip daddr 198.51.100.53 udp dport 53 return comment \"a:2\""));
}

TEST(NftBackendTest, RulesKeepPolicyOrder) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(rule(Direction::Ingress, false, Protocol::Tcp, {"192.0.2.7"}, {}, "a:1"));
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Tcp, {"192.0.2.0/24"}, {}, "a:2"));
  EXPECT_THAT(ingressOf(c), ElementsAre("ip6 saddr ::ffff:0.0.0.0/96 drop",
                                        "ip saddr 192.0.2.7 meta l4proto tcp drop comment \"a:1\"",
                                        "ip saddr 192.0.2.0/24 meta l4proto tcp accept comment \"a:2\"",
                                        "drop"));
}

TEST(NftBackendTest, UnalignedRangeIsWrittenAsRange) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(
      rule(Direction::Ingress, true, Protocol::Udp, {"192.0.2.1", "192.0.2.2/31"}, {}, "a:1"));
  EXPECT_THAT(ingressOf(c),
              ::testing::Contains("ip saddr 192.0.2.1-192.0.2.3 meta l4proto udp accept comment \"a:1\""));
}

TEST(NftBackendTest, IcmpRulesFollowTheirFamily) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Icmp, {}, {}, "a:1"));
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Icmpv6, {}, {}, "a:2"));
  // IPv4 peers cannot match ICMPv6: the rule yields nothing.
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Icmpv6, {"192.0.2.0/24"}, {}, "a:3"));
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Icmp, {"192.0.2.0/24"}, {}, "a:4"));
  EXPECT_THAT(ingressOf(c),
              ElementsAre("ip6 saddr ::ffff:0.0.0.0/96 drop", "meta l4proto icmp accept comment \"a:1\"",
                          "meta l4proto ipv6-icmp accept comment \"a:2\"",
                          "ip saddr 192.0.2.0/24 meta l4proto icmp accept comment \"a:4\"", "drop"));
}

TEST(NftBackendTest, AnyProtocolRules) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Any, {"2001:db8::/48"}, {}, "a:1"));
  c.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Any, {}, {{80, 80}}, "a:2"));
  EXPECT_THAT(ingressOf(c), ElementsAre("ip6 saddr ::ffff:0.0.0.0/96 drop",
                                        "ip6 saddr 2001:db8::/48 accept comment \"a:1\"",
                                        "tcp dport 80 accept comment \"a:2\"",
                                        "udp dport 80 accept comment \"a:2\"", "drop"));
}

TEST(NftBackendTest, EmptyPeerListMatchesNothing) {
  ir::HostContainer c = publicContainer();
  ir::FirewallRule r = rule(Direction::Ingress, true, Protocol::Tcp);
  r.any_peer = false;
  c.firewall.rules.push_back(r);
  EXPECT_THAT(ingressOf(c), ElementsAre("ip6 saddr ::ffff:0.0.0.0/96 drop", "drop"));
}

TEST(NftBackendTest, Ipv4ModeNoneDropsBothWays) {
  ir::HostContainer c = container("web", kIdA, "veth-web");
  testing::setNetwork(c, ir::Ipv4Mode::None);
  EXPECT_EQ(ingressOf(c).front(), "meta nfproto ipv4 drop");
  EXPECT_THAT(egressOf(c), ::testing::Contains("meta nfproto ipv4 drop"));
}

TEST(NftBackendTest, Ipv4ModeNatDropsOnlyInbound) {
  ir::HostContainer c = container("web", kIdA, "veth-web");
  testing::setNetwork(c, ir::Ipv4Mode::Nat);
  EXPECT_EQ(ingressOf(c).front(), "meta nfproto ipv4 drop");
  EXPECT_THAT(egressOf(c), Not(::testing::Contains("meta nfproto ipv4 drop")));
}

TEST(NftBackendTest, Ipv4ModePublicFiltersLikeIpv6) {
  ir::HostContainer c = publicContainer();
  EXPECT_THAT(ingressOf(c), Not(::testing::Contains("meta nfproto ipv4 drop")));
  EXPECT_THAT(egressOf(c), Not(::testing::Contains("meta nfproto ipv4 drop")));
}

TEST(NftBackendTest, ProxyExitsAreTheOnlyWayOut) {
  ir::HostContainer c = publicContainer();
  c.firewall.egress_allow = true;
  c.network.exits = {testing::proxyExit(ir::Exit::Kind::Socks5, "198.51.100.10", 1080),
                     testing::proxyExit(ir::Exit::Kind::Http, "2001:db8:100::10", 3128),
                     testing::proxyExit(ir::Exit::Kind::Https, "198.51.100.11", 443)};
  EXPECT_THAT(egressOf(c),
              ElementsAre("ct state invalid drop", "ip6 daddr ::ffff:0.0.0.0/96 drop",
                          "ip daddr 198.51.100.10 tcp dport 1080 return comment \"team.hoody:9\"",
                          "ip6 daddr 2001:db8:100::10 tcp dport 3128 return comment \"team.hoody:9\"",
                          "ip daddr 198.51.100.11 tcp dport 443 return comment \"team.hoody:9\"",
                          "drop"));
}

TEST(NftBackendTest, WireguardExitUsesTunnelOnly) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(
      rule(Direction::Egress, true, Protocol::Udp, {"198.51.100.0/24"}, {}, "a:1"));
  c.network.exits = {testing::wireguardExit("198.51.100.77", 51820, "hwg0f3e2d1c4b5a"),
                     testing::wireguardExit("198.51.100.77", 51820, "hwg0f3e2d1c4b5a")};
  EXPECT_THAT(egressOf(c),
              ElementsAre("ct state invalid drop", "ip6 daddr ::ffff:0.0.0.0/96 drop",
                          "ip daddr 198.51.100.77 drop",
                          "ip daddr 198.51.100.0/24 meta l4proto udp return comment \"a:1\"",
                          "oifname \"hwg0f3e2d1c4b5a\" return comment \"team.hoody:10\"", "drop"));
}

TEST(NftBackendTest, DnsServersGetUdpAndTcp) {
  ir::HostContainer c = publicContainer();
  testing::setNetwork(c, ir::Ipv4Mode::Public, {},
                      {"198.51.100.54", "2001:db8:100::53", "198.51.100.53"});
  std::vector<std::string> rules = egressOf(c);
  EXPECT_THAT(rules, ::testing::Contains("ip daddr { 198.51.100.53, 198.51.100.54 } udp dport 53 "
                                         "return comment \"team.hoody:8\""));
  EXPECT_THAT(rules, ::testing::Contains("ip daddr { 198.51.100.53, 198.51.100.54 } tcp dport 53 "
                                         "return comment \"team.hoody:8\""));
  EXPECT_THAT(rules, ::testing::Contains("ip6 daddr 2001:db8:100::53 udp dport 53 return comment "
                                         "\"team.hoody:8\""));
  EXPECT_THAT(rules, ::testing::Contains("ip6 daddr 2001:db8:100::53 tcp dport 53 return comment "
                                         "\"team.hoody:8\""));
  // DNS servers alone are not exits: the firewall's egress default still applies.
  EXPECT_EQ(rules.back(), "drop");
}

TEST(NftBackendTest, BlockExitDropsAllEgress) {
  ir::HostContainer c = publicContainer();
  c.firewall.egress_allow = true;
  c.firewall.rules.push_back(rule(Direction::Egress, true, Protocol::Tcp, {}, {}, "a:1"));
  testing::setNetwork(c, ir::Ipv4Mode::Public,
                      {testing::proxyExit(ir::Exit::Kind::Socks5, "198.51.100.10", 1080),
                       testing::blockExit()},
                      {"198.51.100.53"});
  EXPECT_THAT(egressOf(c), ElementsAre("drop"));
}

TEST(NftBackendTest, AntiSpoofingListsOwnAddresses) {
  ir::HostContainer c =
      container("web", kIdA, "veth-web", {"192.0.2.11", "2001:db8:1::10", "192.0.2.10"});
  testing::setNetwork(c, ir::Ipv4Mode::Public);
  std::vector<std::string> rules = egressOf(c);
  EXPECT_THAT(rules, ::testing::Contains("ip saddr != { 192.0.2.10, 192.0.2.11 } drop"));
  EXPECT_THAT(rules, ::testing::Contains("ip6 saddr != 2001:db8:1::10 drop"));
}

TEST(NftBackendTest, AntiSpoofingDropsFamilyWithoutAddresses) {
  ir::HostContainer c = container("web", kIdA, "veth-web", {"2001:db8:1::10"});
  testing::setNetwork(c, ir::Ipv4Mode::Public);
  EXPECT_THAT(egressOf(c), ElementsAre("ct state invalid drop", "meta nfproto ipv4 drop",
                                       "ip6 saddr != 2001:db8:1::10 drop",
                                       "ip6 daddr ::ffff:0.0.0.0/96 drop", "drop"));
}

TEST(NftBackendTest, LeavesOutUnusableInterfaces) {
  ir::HostPolicy host;
  host.containers.push_back(container("web", kIdA, "veth-web"));
  host.containers.push_back(container("nolink", kIdB, ""));
  host.containers.push_back(container("quote", "111111111111111111111111", "veth\"x"));
  host.containers.push_back(container("star", "222222222222222222222222", "veth*"));
  host.containers.push_back(container("long", "333333333333333333333333", "veth-0123456789ab"));
  host.containers.push_back(container("twin", "444444444444444444444444", "veth-web"));
  Ruleset rs = emitRuleset(host);
  ASSERT_EQ(rs.containers.size(), 1u);
  EXPECT_EQ(rs.containers[0].label, "acme/shop/web");
  ASSERT_EQ(rs.left_out.size(), 5u);
  EXPECT_EQ(rs.left_out[0].label, "acme/shop/nolink");
  EXPECT_EQ(rs.left_out[0].reason, "the inventory gives no interface");
  EXPECT_THAT(rs.left_out[1].reason, HasSubstr("cannot match literally"));
  EXPECT_THAT(rs.left_out[2].reason, HasSubstr("cannot match literally"));
  EXPECT_THAT(rs.left_out[3].reason, HasSubstr("longer than 15 bytes"));
  EXPECT_THAT(rs.left_out[4].reason, HasSubstr("already belongs to an earlier container"));
  EXPECT_THAT(rs.text, Not(HasSubstr("veth\"x")));
}

TEST(NftBackendTest, OutputIsDeterministic) {
  ir::HostPolicy host;
  ir::HostContainer a = publicContainer();
  a.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Tcp, {"203.0.113.0/24"}, {{443, 443}}));
  host.containers.push_back(a);
  host.containers.push_back(container("db", kIdB, "veth-db", {"192.0.2.20"}));
  Ruleset first = emitRuleset(host);
  Ruleset second = emitRuleset(host);
  EXPECT_EQ(first.text, second.text);
  EXPECT_EQ(first.json, second.json);
  EXPECT_EQ(first.chains, 6u);
  // forward 4, input 3, web 3 + 3, db 3 + 6 (IPv4 off and anti-spoofing).
  EXPECT_EQ(first.rules, 22u);
}

TEST(NftBackendTest, DigestIgnoresOriginsButNotRules) {
  auto digestOf = [](const ir::HostContainer& c) {
    ir::HostPolicy host;
    host.containers.push_back(c);
    std::string text = emitRuleset(host).text;
    size_t at = text.find("comment \"digest ", text.find("map ingress"));
    return text.substr(at, 40);
  };
  ir::HostContainer base = publicContainer();
  base.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Tcp, {}, {{22, 22}}, "a:1"));
  ir::HostContainer moved = base;
  moved.firewall.rules[0].origin = "a:7";
  ir::HostContainer other_port = base;
  other_port.firewall.rules[0].ports = {{23, 23}};
  ir::HostContainer other_link = base;
  other_link.interface = "veth-other";
  EXPECT_EQ(digestOf(base), digestOf(moved));
  EXPECT_NE(digestOf(base), digestOf(other_port));
  EXPECT_NE(digestOf(base), digestOf(other_link));
}

TEST(NftBackendTest, CommentsAreSanitized) {
  ir::HostContainer c = publicContainer();
  c.firewall.rules.push_back(
      rule(Direction::Ingress, true, Protocol::Tcp, {}, {}, "dir/\"quoted\" file.hoody:3"));
  EXPECT_THAT(ingressOf(c), ::testing::Contains(
                                "meta l4proto tcp accept comment \"dir/_quoted_ file.hoody:3\""));
}

TEST(NftBackendTest, JsonHasTheSameChainsAndRules) {
  ir::HostPolicy host;
  ir::HostContainer a = publicContainer();
  a.firewall.rules.push_back(rule(Direction::Ingress, true, Protocol::Tcp, {"203.0.113.0/24", "2001:db8::/32"},
                                  {{22, 22}, {8000, 8100}}));
  host.containers.push_back(a);
  Ruleset rs = emitRuleset(host);
  auto doc = nlohmann::json::parse(rs.json);
  const auto& items = doc.at("nftables");
  ASSERT_GE(items.size(), 2u);
  EXPECT_EQ(items[0].at("metainfo").at("json_schema_version"), 1);
  EXPECT_EQ(items[1].at("table").at("name"), "hoody");
  size_t chains = 0;
  size_t rules = 0;
  std::vector<std::string> chain_order;
  for (const auto& item : items) {
    if (item.contains("chain")) {
      ++chains;
      chain_order.push_back(item["chain"]["name"]);
    }
    if (item.contains("rule")) ++rules;
  }
  EXPECT_EQ(chains, rs.chains);
  EXPECT_EQ(rules, rs.rules);
  EXPECT_THAT(chain_order, ElementsAre("forward", "input", "in_0f3e2d1c4b5a69788796a5b4",
                                       "out_0f3e2d1c4b5a69788796a5b4"));
  EXPECT_THAT(rs.json, HasSubstr(R"({"prefix":{"addr":"203.0.113.0","len":24}})"));
  EXPECT_THAT(rs.json, HasSubstr(R"({"range":[8000,8100]})"));
  EXPECT_THAT(rs.json, ::testing::ContainsRegex(
                           R"(\[\{"elem":\{"comment":"digest [0-9a-f]{16} acme/shop/web",)"
                           R"("val":"veth-web"\}\},\{"jump":\{"target":)"
                           R"("in_0f3e2d1c4b5a69788796a5b4"\}\}\])"));
}

}  // namespace
}  // namespace hoody::nft
