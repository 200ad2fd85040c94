// SPDX-License-Identifier: Apache-2.0
// Per-container chain rules: firewall rules, IPv4 modes, exits, DNS and
// anti-spoofing.
#include "compiler/backend/nft/chain_rules.h"

#include <algorithm>
#include <optional>
#include <tuple>

namespace hoody::nft {
namespace {

// IPv4-mapped IPv6 addresses do not belong on a link: RFC 6890 (table 20)
// does not allow them as a source. Dropping them both ways means no IPv6
// rule can stand in for an IPv4 rule.
const Value kMappedRange{"::ffff:0.0.0.0/96", R"({"prefix":{"addr":"::ffff:0.0.0.0","len":96}})"};
constexpr uint16_t kDnsPort = 53;

enum class Family : uint8_t { Any, V4, V6 };

Match nfproto(const char* family) { return {Field::NfProto, false, {symbolValue(family)}}; }

Rule dropRule(std::vector<Match> matches) { return makeRule(std::move(matches), Verdict::Drop); }

Rule returnRule(std::vector<Match> matches, std::string comment) {
  return makeRule(std::move(matches), Verdict::Return, std::move(comment));
}

bool lessAddress(const ir::IpAddress& a, const ir::IpAddress& b) {
  return std::tie(a.is_v4, a.v4, a.v6) < std::tie(b.is_v4, b.v4, b.v6);
}

bool sameAddress(const ir::IpAddress& a, const ir::IpAddress& b) {
  return a.is_v4 == b.is_v4 && a.v4 == b.v4 && a.v6 == b.v6;
}

// Returns the addresses of one family, sorted and without duplicates.
std::vector<Value> addressValues(std::vector<ir::IpAddress> addresses, bool v4) {
  std::erase_if(addresses, [v4](const ir::IpAddress& a) { return a.is_v4 != v4; });
  std::sort(addresses.begin(), addresses.end(), lessAddress);
  addresses.erase(std::unique(addresses.begin(), addresses.end(), sameAddress), addresses.end());
  std::vector<Value> values;
  for (const ir::IpAddress& a : addresses) values.push_back(addressValue(a));
  return values;
}

std::vector<Value> portValues(const std::vector<ir::PortRange>& ports) {
  std::vector<Value> values;
  for (const ir::PortRange& p : ports) values.push_back(portValue(p.first, p.last));
  return values;
}

Field peerField(ir::Direction direction, Family family) {
  bool v4 = family == Family::V4;
  if (direction == ir::Direction::Ingress) return v4 ? Field::IpSaddr : Field::Ip6Saddr;
  return v4 ? Field::IpDaddr : Field::Ip6Daddr;
}

// Appends the protocol and port matches of `rule` to `base`, one rule per
// protocol. Ports apply to tcp and udp only; `any` with ports stands for
// both, and icmp rules have no ports.
void appendProtocolRules(std::vector<Rule>& out, const Rule& base, const ir::FirewallRule& rule,
                         Family family) {
  auto withMatch = [&](Match m) {
    Rule r = base;
    r.matches.push_back(std::move(m));
    out.push_back(std::move(r));
  };
  auto transport = [&](Field port_field, const char* protocol) {
    if (rule.ports.empty()) {
      withMatch({Field::L4Proto, false, {symbolValue(protocol)}});
    } else {
      withMatch({port_field, false, portValues(rule.ports)});
    }
  };
  switch (rule.protocol) {
    case ir::Protocol::Tcp:
      transport(Field::TcpDport, "tcp");
      return;
    case ir::Protocol::Udp:
      transport(Field::UdpDport, "udp");
      return;
    case ir::Protocol::Icmp:
      if (family != Family::V6) withMatch({Field::L4Proto, false, {symbolValue("icmp")}});
      return;
    case ir::Protocol::Icmpv6:
      if (family != Family::V4) withMatch({Field::L4Proto, false, {symbolValue("ipv6-icmp")}});
      return;
    case ir::Protocol::Any:
      if (rule.ports.empty()) {
        out.push_back(base);
      } else {
        transport(Field::TcpDport, "tcp");
        transport(Field::UdpDport, "udp");
      }
      return;
  }
}

// Appends the nft rules for one firewall rule: one per address family with
// peers and per protocol. A rule whose peer list is empty matches nothing.
void appendFirewallRule(std::vector<Rule>& out, const ir::FirewallRule& rule,
                        Verdict allow_verdict) {
  Rule base;
  base.verdict = rule.allow ? allow_verdict : Verdict::Drop;
  base.comment = commentText(rule.origin, kMaxLabelBytes);
  if (rule.any_peer) {
    appendProtocolRules(out, base, rule, Family::Any);
    return;
  }
  if (!rule.peers.v4.empty()) {
    Rule v4 = base;
    std::vector<Value> values;
    for (const ir::V4Range& r : rule.peers.v4) values.push_back(addressValue(r));
    v4.matches.push_back({peerField(rule.direction, Family::V4), false, values});
    appendProtocolRules(out, v4, rule, Family::V4);
  }
  if (!rule.peers.v6.empty()) {
    Rule v6 = base;
    std::vector<Value> values;
    for (const ir::V6Range& r : rule.peers.v6) values.push_back(addressValue(r));
    v6.matches.push_back({peerField(rule.direction, Family::V6), false, values});
    appendProtocolRules(out, v6, rule, Family::V6);
  }
}

void appendFirewallRules(std::vector<Rule>& out, const ir::Firewall& firewall,
                         ir::Direction direction, Verdict allow_verdict) {
  for (const ir::FirewallRule& rule : firewall.rules) {
    if (rule.direction == direction) appendFirewallRule(out, rule, allow_verdict);
  }
}

ir::Ipv4Mode ipv4Mode(const ir::HostContainer& c) {
  return c.has_network ? c.network.ipv4 : ir::Ipv4Mode::None;
}

// The source of every packet from the container must be one of its own
// addresses. A family without addresses has no valid source at all.
// NOTE: this also drops DHCPv4 requests (source 0.0.0.0) to the host, so
// containers with inventory addresses need static IPv4 configuration.
// Established packets are accepted before this check, so a container that
// guesses another container's addresses, ports and TCP window could inject
// into that container's connections.
void appendAntiSpoofing(std::vector<Rule>& out, const ir::HostContainer& c) {
  if (c.addresses.empty()) return;
  std::vector<Value> v4 = addressValues(c.addresses, true);
  std::vector<Value> v6 = addressValues(c.addresses, false);
  if (v4.empty()) {
    if (ipv4Mode(c) != ir::Ipv4Mode::None) out.push_back(dropRule({nfproto("ipv4")}));
  } else {
    out.push_back(dropRule({{Field::IpSaddr, true, v4}}));
  }
  if (v6.empty()) {
    out.push_back(dropRule({nfproto("ipv6")}));
  } else {
    out.push_back(dropRule({{Field::Ip6Saddr, true, v6}}));
  }
}

Match daddr(const ir::IpAddress& address) {
  return {address.is_v4 ? Field::IpDaddr : Field::Ip6Daddr, false, {addressValue(address)}};
}

// A WireGuard endpoint is reached only through the tunnel the host runs,
// never directly by the container.
void appendEndpointDrops(std::vector<Rule>& out, const ir::Network& network) {
  std::vector<ir::IpAddress> endpoints;
  for (const ir::Exit& exit : network.exits) {
    if (exit.kind == ir::Exit::Kind::Wireguard) endpoints.push_back(exit.wireguard.endpoint);
  }
  std::sort(endpoints.begin(), endpoints.end(), lessAddress);
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end(), sameAddress), endpoints.end());
  for (const ir::IpAddress& e : endpoints) out.push_back(dropRule({daddr(e)}));
}

void appendExits(std::vector<Rule>& out, const ir::Network& network) {
  std::vector<std::string> tunnels;
  for (const ir::Exit& exit : network.exits) {
    std::string origin = commentText(exit.origin, kMaxLabelBytes);
    switch (exit.kind) {
      case ir::Exit::Kind::Socks5:
      case ir::Exit::Kind::Http:
      case ir::Exit::Kind::Https:
        out.push_back(returnRule(
            {daddr(exit.address), {Field::TcpDport, false, {portValue(exit.port, exit.port)}}},
            origin));
        break;
      case ir::Exit::Kind::Wireguard:
        if (std::find(tunnels.begin(), tunnels.end(), exit.interface) != tunnels.end()) break;
        tunnels.push_back(exit.interface);
        out.push_back(returnRule({{Field::Oifname, false, {stringValue(exit.interface)}}}, origin));
        break;
      case ir::Exit::Kind::Block:
        break;
    }
  }
}

void appendDns(std::vector<Rule>& out, const ir::Network& network) {
  std::string origin = commentText(network.origin, kMaxLabelBytes);
  for (bool v4 : {true, false}) {
    std::vector<Value> servers = addressValues(network.dns, v4);
    if (servers.empty()) continue;
    Match to{v4 ? Field::IpDaddr : Field::Ip6Daddr, false, servers};
    for (Field port : {Field::UdpDport, Field::TcpDport}) {
      out.push_back(returnRule({to, {port, false, {portValue(kDnsPort, kDnsPort)}}}, origin));
    }
  }
}

bool hasBlockExit(const ir::HostContainer& c) {
  if (!c.has_network) return false;
  return std::any_of(c.network.exits.begin(), c.network.exits.end(),
                     [](const ir::Exit& e) { return e.kind == ir::Exit::Kind::Block; });
}

}  // namespace

std::vector<Rule> ingressRules(const ir::HostContainer& c) {
  std::vector<Rule> rules;
  // Packets that reach this chain start a connection: established and
  // related ones were accepted in the base chain. `nat` and `none` both
  // refuse new inbound IPv4.
  if (ipv4Mode(c) != ir::Ipv4Mode::Public) rules.push_back(dropRule({nfproto("ipv4")}));
  rules.push_back(dropRule({{Field::Ip6Saddr, false, {kMappedRange}}}));
  appendFirewallRules(rules, c.firewall, ir::Direction::Ingress, Verdict::Accept);
  rules.push_back(makeRule({}, c.firewall.ingress_allow ? Verdict::Accept : Verdict::Drop));
  return rules;
}

std::vector<Rule> egressRules(const ir::HostContainer& c) {
  // A `block` exit drops everything; replies to accepted ingress were
  // accepted in the base chain already.
  if (hasBlockExit(c)) return {makeRule({}, Verdict::Drop)};

  std::vector<Rule> rules;
  // The base chain of the input hook has no invalid-state rule, so that
  // the host's other interfaces keep their own handling of such packets.
  rules.push_back(dropRule({{Field::CtState, false, {symbolValue("invalid")}}}));
  if (ipv4Mode(c) == ir::Ipv4Mode::None) rules.push_back(dropRule({nfproto("ipv4")}));
  appendAntiSpoofing(rules, c);
  rules.push_back(dropRule({{Field::Ip6Daddr, false, {kMappedRange}}}));
  if (c.has_network) appendEndpointDrops(rules, c.network);
  appendFirewallRules(rules, c.firewall, ir::Direction::Egress, Verdict::Return);

  bool has_exits = c.has_network && !c.network.exits.empty();
  if (c.has_network) {
    appendExits(rules, c.network);
    appendDns(rules, c.network);
  }
  bool allow = !has_exits && c.firewall.egress_allow;
  rules.push_back(makeRule({}, allow ? Verdict::Return : Verdict::Drop));
  return rules;
}

}  // namespace hoody::nft
