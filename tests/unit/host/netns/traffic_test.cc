// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the host firewall with real traffic: a host
// namespace that forwards for container namespaces and an outside network,
// a compiled ruleset applied there through the libnftables applier, and TCP,
// UDP and ICMP probes that must pass or be dropped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "compiler/backend/nft/nft_backend.h"
#include "runtime/host/nftables.h"
#include "tests/unit/host/support/host_builder.h"
#include "tests/unit/host/support/probes.h"
#include "tests/unit/host/support/topology.h"

namespace hoody::testing {
namespace {

using ir::Direction;
using ir::Protocol;

constexpr const char* kIdA = "0f3e2d1c4b5a69788796a5b4";
constexpr const char* kIdB = "9c8b7a6f5e4d3c2b1a0f9e8d";
constexpr const char* kSocks = "198.51.100.10";
constexpr const char* kOtherV4 = "198.51.100.11";
constexpr const char* kDnsV4 = "198.51.100.53";
constexpr const char* kOtherDnsV4 = "198.51.100.54";
constexpr const char* kOtherV6 = "2001:db8:100::11";
constexpr const char* kDnsV6 = "2001:db8:100::53";
constexpr const char* kEndpointV6 = "2001:db8:100::77";
constexpr const char* kOutsideV4 = "203.0.113.2";
constexpr const char* kOutsideV6 = "2001:db8:ff::2";

struct Expectation {
  Probe probe;
  std::string outcome;
};

Probe tcp(const NetNamespace& from, const std::string& to, uint16_t port,
          const std::string& source = "") {
  std::string label = fmt::format("tcp [{}]:{} from {}", to, port, source.empty() ? from.name() : source);
  return {label, &from, Transport::Tcp, to, port, source};
}

Probe udp(const NetNamespace& from, const std::string& to, uint16_t port) {
  return {fmt::format("udp [{}]:{} from {}", to, port, from.name()), &from, Transport::Udp, to,
          port, ""};
}

// Runs every probe at once and checks each outcome on its own.
void expectOutcomes(const std::vector<Expectation>& expectations, Servers& servers) {
  std::vector<Probe> probes;
  for (const Expectation& e : expectations) probes.push_back(e.probe);
  std::vector<std::string> outcomes = runProbes(probes, servers);
  for (size_t i = 0; i < expectations.size(); ++i) {
    EXPECT_EQ(outcomes[i], expectations[i].outcome) << expectations[i].probe.label;
  }
}

ir::HostContainer containerOn(const ContainerNet& net, const std::string& name,
                              std::string_view id_hex) {
  ir::HostContainer c = container(name, id_hex, net.interface);
  c.addresses = {address(net.v4), address(net.v6)};
  return c;
}

class TrafficTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = netnsUnavailable()) GTEST_SKIP() << *reason;
    topology_ = std::make_unique<Topology>();
    ASSERT_TRUE(topology_->ok()) << topology_->error();
  }

  Topology& topology() { return *topology_; }

  // Compiles `host` and installs it in the host namespace.
  void apply(const ir::HostPolicy& host) {
    nft::Ruleset rs = nft::emitRuleset(host);
    ASSERT_TRUE(rs.left_out.empty()) << rs.left_out.front().reason;
    NamespaceEntry enter(topology_->host());
    ASSERT_TRUE(enter.entered());
    auto r = host::replaceTable(rs.text);
    ASSERT_TRUE(r) << r.error().str();
  }

  void apply(const ir::HostContainer& c) {
    ir::HostPolicy host;
    host.containers.push_back(c);
    apply(host);
  }

 private:
  std::unique_ptr<Topology> topology_;
};

TEST_F(TrafficTest, DefaultDenyBothWays) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  Servers servers;
  ASSERT_TRUE(servers.listenTcp(topology().outside(), 80));
  ASSERT_TRUE(servers.listenTcp(*a.ns, 22));
  ASSERT_TRUE(servers.listenTcp(topology().host(), 9000));

  // Without the table every path is open, so the drops below are hoody's.
  expectOutcomes({{tcp(topology().outside(), a.v6, 22), kConnected},
                  {tcp(*a.ns, kOtherV6, 80), kConnected},
                  {tcp(*a.ns, a.host_v6, 9000), kConnected}},
                 servers);

  apply(containerOn(a, "web", kIdA));
  expectOutcomes({{tcp(topology().outside(), a.v6, 22), kTimedOut},
                  {tcp(topology().outside(), a.v4, 22), kTimedOut},
                  {tcp(*a.ns, kOtherV6, 80), kTimedOut},
                  {tcp(*a.ns, kOtherV4, 80), kTimedOut},
                  {tcp(*a.ns, a.host_v6, 9000), kTimedOut}},
                 servers);
  EXPECT_FALSE(ping(topology().outside(), a.v6));
}

TEST_F(TrafficTest, PortRangeEdges) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  setNetwork(c, ir::Ipv4Mode::Public);
  c.firewall.rules = {
      rule(Direction::Ingress, true, Protocol::Tcp, {"203.0.113.0/24", "2001:db8:ff::/48"},
           {{8000, 8100}}),
      rule(Direction::Ingress, true, Protocol::Udp, {"203.0.113.0/24", "2001:db8:ff::/48"},
           {{6000, 6001}}),
  };
  // Applied before any traffic: IPv6 neighbour discovery must work with
  // the table in place.
  apply(c);

  Servers servers;
  for (uint16_t port : {7999, 8000, 8100, 8101}) ASSERT_TRUE(servers.listenTcp(*a.ns, port));
  for (const std::string& own : {a.v4, a.v6}) {
    for (uint16_t port : {6000, 6001, 6002}) ASSERT_TRUE(servers.bindUdp(*a.ns, own, port));
  }
  const NetNamespace& out = topology().outside();
  expectOutcomes({{tcp(out, a.v4, 7999), kTimedOut},
                  {tcp(out, a.v4, 8000), kConnected},
                  {tcp(out, a.v4, 8100), kConnected},
                  {tcp(out, a.v4, 8101), kTimedOut},
                  {tcp(out, a.v6, 7999), kTimedOut},
                  {tcp(out, a.v6, 8000), kConnected},
                  {tcp(out, a.v6, 8100), kConnected},
                  {tcp(out, a.v6, 8101), kTimedOut},
                  {tcp(out, a.v4, 8000, kOtherV4), kTimedOut},
                  {tcp(out, a.v6, 8000, kOtherV6), kTimedOut},
                  {udp(out, a.v4, 6000), kReplied},
                  {udp(out, a.v4, 6001), kReplied},
                  {udp(out, a.v4, 6002), kTimedOut},
                  {udp(out, a.v6, 6001), kReplied},
                  {udp(out, a.v6, 6002), kTimedOut}},
                 servers);
}

TEST_F(TrafficTest, ExitOnlyEgressAndDns) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.egress_allow = true;  // Declared exits still close everything else.
  setNetwork(c, ir::Ipv4Mode::Public, {proxyExit(ir::Exit::Kind::Socks5, kSocks, 1080)},
             {kDnsV4, kDnsV6});
  apply(c);

  const NetNamespace& out = topology().outside();
  Servers servers;
  for (uint16_t port : {53, 1080, 1081}) ASSERT_TRUE(servers.listenTcp(out, port));
  for (const char* dns : {kDnsV4, kOtherDnsV4, kDnsV6}) ASSERT_TRUE(servers.bindUdp(out, dns, 53));
  expectOutcomes({{tcp(*a.ns, kSocks, 1080), kConnected},
                  {tcp(*a.ns, kSocks, 1081), kTimedOut},
                  {tcp(*a.ns, kOtherV4, 1080), kTimedOut},
                  {tcp(*a.ns, "2001:db8:100::10", 1080), kTimedOut},
                  {udp(*a.ns, kDnsV4, 53), kReplied},
                  {tcp(*a.ns, kDnsV4, 53), kConnected},
                  {udp(*a.ns, kDnsV6, 53), kReplied},
                  {tcp(*a.ns, kDnsV6, 53), kConnected},
                  {udp(*a.ns, kOtherDnsV4, 53), kTimedOut},
                  {tcp(*a.ns, kOtherDnsV4, 53), kTimedOut}},
                 servers);
}

TEST_F(TrafficTest, BlockExitDropsEgressButAnswersIngress) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.ingress_allow = true;
  c.firewall.egress_allow = true;
  setNetwork(c, ir::Ipv4Mode::Public, {blockExit()}, {kDnsV4});
  apply(c);

  const NetNamespace& out = topology().outside();
  Servers servers;
  ASSERT_TRUE(servers.listenTcp(out, 80));
  ASSERT_TRUE(servers.listenTcp(*a.ns, 22));
  ASSERT_TRUE(servers.bindUdp(out, kDnsV4, 53));
  expectOutcomes({{tcp(*a.ns, kOtherV4, 80), kTimedOut},
                  {tcp(*a.ns, kOtherV6, 80), kTimedOut},
                  {udp(*a.ns, kDnsV4, 53), kTimedOut},
                  {tcp(out, a.v4, 22), kConnected},
                  {tcp(out, a.v6, 22), kConnected}},
                 servers);
}

TEST_F(TrafficTest, Ipv4NoneDropsAllIpv4) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.ingress_allow = true;
  c.firewall.egress_allow = true;
  setNetwork(c, ir::Ipv4Mode::None);
  apply(c);

  const NetNamespace& out = topology().outside();
  Servers servers;
  ASSERT_TRUE(servers.listenTcp(out, 80));
  ASSERT_TRUE(servers.listenTcp(*a.ns, 22));
  expectOutcomes({{tcp(out, a.v4, 22), kTimedOut},
                  {tcp(out, a.v6, 22), kConnected},
                  {tcp(*a.ns, kOutsideV4, 80), kTimedOut},
                  {tcp(*a.ns, kOutsideV6, 80), kConnected}},
                 servers);
  EXPECT_TRUE(ping(*a.ns, kOutsideV6));
  EXPECT_FALSE(ping(*a.ns, kOutsideV4));
}

TEST_F(TrafficTest, Ipv4NatRefusesNewInbound) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.ingress_allow = true;
  c.firewall.egress_allow = true;
  setNetwork(c, ir::Ipv4Mode::Nat);
  apply(c);

  const NetNamespace& out = topology().outside();
  Servers servers;
  ASSERT_TRUE(servers.listenTcp(out, 80));
  ASSERT_TRUE(servers.listenTcp(*a.ns, 22));
  ASSERT_TRUE(servers.bindUdp(out, kDnsV4, 53));
  expectOutcomes({{tcp(out, a.v4, 22), kTimedOut},
                  {tcp(out, a.v6, 22), kConnected},
                  {tcp(*a.ns, kOutsideV4, 80), kConnected},
                  {udp(*a.ns, kDnsV4, 53), kReplied}},
                 servers);
}

TEST_F(TrafficTest, AntiSpoofingDropsForeignSources) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  topology().addAddress(a, "192.0.2.11/28");
  topology().addAddress(a, "2001:db8:1::11/64");
  ASSERT_TRUE(topology().ok()) << topology().error();
  Servers servers;
  ASSERT_TRUE(servers.listenTcp(topology().outside(), 80));
  expectOutcomes({{tcp(*a.ns, kOtherV4, 80, "192.0.2.11"), kConnected},
                  {tcp(*a.ns, kOtherV6, 80, "2001:db8:1::11"), kConnected}},
                 servers);

  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.egress_allow = true;
  setNetwork(c, ir::Ipv4Mode::Public);
  apply(c);
  expectOutcomes({{tcp(*a.ns, kOtherV4, 80, a.v4), kConnected},
                  {tcp(*a.ns, kOtherV6, 80, a.v6), kConnected},
                  {tcp(*a.ns, kOtherV4, 80, "192.0.2.11"), kTimedOut},
                  {tcp(*a.ns, kOtherV6, 80, "2001:db8:1::11"), kTimedOut}},
                 servers);
}

TEST_F(TrafficTest, ContainerToContainerPassesBothChains) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ContainerNet& b = topology().addContainer("veth-db", 2);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer web = containerOn(a, "web", kIdA);
  web.firewall.egress_allow = true;
  setNetwork(web, ir::Ipv4Mode::Public);
  ir::HostContainer db = containerOn(b, "db", kIdB);
  db.firewall.rules = {rule(Direction::Ingress, true, Protocol::Tcp, {"2001:db8:1::10"}, {{5432, 5432}})};
  setNetwork(db, ir::Ipv4Mode::Public);
  ir::HostPolicy host;
  host.containers = {web, db};
  apply(host);

  Servers servers;
  for (uint16_t port : {5432, 5433}) ASSERT_TRUE(servers.listenTcp(*b.ns, port));
  ASSERT_TRUE(servers.listenTcp(*a.ns, 80));
  // web's egress allows everything; db's ingress still decides.
  expectOutcomes({{tcp(*a.ns, b.v6, 5432), kConnected},
                  {tcp(*a.ns, b.v6, 5433), kTimedOut},
                  {tcp(*a.ns, b.v4, 5432), kTimedOut},
                  {tcp(*b.ns, a.v6, 80), kTimedOut}},
                 servers);
}

TEST_F(TrafficTest, HostCountsAsEgress) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.rules = {rule(Direction::Egress, true, Protocol::Tcp, {"2001:db8:1::1"}, {{9001, 9001}})};
  setNetwork(c, ir::Ipv4Mode::Public);
  apply(c);

  Servers servers;
  for (uint16_t port : {9000, 9001}) ASSERT_TRUE(servers.listenTcp(topology().host(), port));
  expectOutcomes({{tcp(*a.ns, a.host_v6, 9001), kConnected},
                  {tcp(*a.ns, a.host_v6, 9000), kTimedOut},
                  {tcp(*a.ns, a.host_v4, 9001), kTimedOut}},
                 servers);
}

TEST_F(TrafficTest, WireguardExitUsesTunnelOnly) {
  const std::string tunnel_interface = "hwg0f3e2d1c4b5a";
  ContainerNet& a = topology().addContainer("veth-web", 1);
  const NetNamespace& tunnel = topology().addTunnel(tunnel_interface);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.rules = {rule(Direction::Egress, true, Protocol::Tcp, {"2001:db8:100::/64"})};
  setNetwork(c, ir::Ipv4Mode::None, {wireguardExit(kEndpointV6, 51820, tunnel_interface)});
  apply(c);

  Servers servers;
  ASSERT_TRUE(servers.listenTcp(tunnel, 443));
  ASSERT_TRUE(servers.listenTcp(topology().outside(), 443));
  expectOutcomes({{tcp(*a.ns, kTunnelPeer, 443), kConnected},
                  {tcp(*a.ns, kEndpointV6, 443), kTimedOut},
                  {tcp(*a.ns, kOtherV6, 443), kConnected},
                  {tcp(*a.ns, kOutsideV6, 443), kTimedOut}},
                 servers);
}

TEST_F(TrafficTest, IcmpRuleAllowsPing) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.rules = {rule(Direction::Ingress, true, Protocol::Icmpv6, {"2001:db8:ff::/48"})};
  setNetwork(c, ir::Ipv4Mode::Public);
  apply(c);
  EXPECT_TRUE(ping(topology().outside(), a.v6));
  EXPECT_FALSE(ping(topology().outside(), a.v4));
}

TEST_F(TrafficTest, FailedApplyKeepsFiltering) {
  ContainerNet& a = topology().addContainer("veth-web", 1);
  ASSERT_TRUE(topology().ok()) << topology().error();
  ir::HostContainer c = containerOn(a, "web", kIdA);
  c.firewall.rules = {rule(Direction::Ingress, true, Protocol::Tcp, {}, {{443, 443}})};
  setNetwork(c, ir::Ipv4Mode::Public);
  apply(c);

  // The broken ruleset would open everything, were it applied in part.
  ir::HostContainer open = c;
  open.firewall.ingress_allow = true;
  ir::HostPolicy host;
  host.containers.push_back(open);
  std::string broken = nft::emitRuleset(host).text;
  broken.insert(broken.find("\t\tct state invalid drop\n"), "\t\tjump nochain\n");
  {
    NamespaceEntry enter(topology().host());
    auto r = host::replaceTable(broken);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "nft-rejected");
  }

  Servers servers;
  for (uint16_t port : {22, 443}) ASSERT_TRUE(servers.listenTcp(*a.ns, port));
  expectOutcomes({{tcp(topology().outside(), a.v6, 443), kConnected},
                  {tcp(topology().outside(), a.v6, 22), kTimedOut}},
                 servers);
}

}  // namespace
}  // namespace hoody::testing
