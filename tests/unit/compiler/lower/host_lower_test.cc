// SPDX-License-Identifier: Apache-2.0
// Tests of lowering the host layers: firewall rules, network exits and
// providers, DNS, seccomp profiles, and the inventory's host fields.
#include "compiler/lower/host_lower.h"

#include "runtime/abi/address.h"
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

const ir::HostContainer& named(const driver::FrontEndOutput& out, const std::string& name) {
  for (const ir::HostContainer& c : out.host.containers) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no container " << name;
  return out.host.containers.front();
}

ir::IpAddress address(const char* text) { return *net::parseAddress(text); }

TEST(HostLowerTest, NoBlocksDenyAllAndIpv4) {
  auto out = check(inProject(container("a", kContainerA)));
  ASSERT_TRUE(out.ok) << rendered(out);
  ASSERT_EQ(out.host.containers.size(), 1u);
  const ir::HostContainer& a = out.host.containers[0];
  EXPECT_EQ(a.realm, "r");
  EXPECT_EQ(a.project, "p");
  EXPECT_FALSE(a.firewall.ingress_allow);
  EXPECT_FALSE(a.firewall.egress_allow);
  EXPECT_TRUE(a.firewall.rules.empty());
  EXPECT_FALSE(a.has_network);
  EXPECT_EQ(a.seccomp_profile, 0u);
  ASSERT_EQ(out.host.seccomp_profiles.size(), 1u);
  EXPECT_EQ(out.host.seccomp_profiles[0].name, "default");
}

TEST(HostLowerTest, FirewallRulesKeepOrderAndMergeRanges) {
  auto out = check(inProject(container(
      "a", kContainerA,
      "firewall {\n default allow\n"
      " ingress allow tcp from 203.0.113.0/24, 203.0.113.128/25, 2001:db8::/32 port 443, "
      "8000-8100, 8050-8200\n"
      " egress deny tcp to 0.0.0.0/0 port 25\n"
      " ingress deny icmp\n}")));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::HostContainer& a = named(out, "a");
  EXPECT_TRUE(a.firewall.ingress_allow);
  EXPECT_TRUE(a.firewall.egress_allow);
  ASSERT_EQ(a.firewall.rules.size(), 3u);

  const ir::FirewallRule& web = a.firewall.rules[0];
  EXPECT_EQ(web.direction, ir::Direction::Ingress);
  EXPECT_TRUE(web.allow);
  EXPECT_EQ(web.protocol, ir::Protocol::Tcp);
  EXPECT_FALSE(web.any_peer);
  ASSERT_EQ(web.peers.v4.size(), 1u) << "the /25 lies inside the /24";
  EXPECT_EQ(web.peers.v4[0].first, address("203.0.113.0").v4);
  EXPECT_EQ(web.peers.v4[0].last, address("203.0.113.255").v4);
  EXPECT_EQ(web.peers.v6.size(), 1u);
  std::vector<ir::PortRange> ports = {{443, 443}, {8000, 8200}};
  EXPECT_EQ(web.ports, ports);
  EXPECT_EQ(web.origin, "test.hoody:6");

  EXPECT_EQ(a.firewall.rules[1].direction, ir::Direction::Egress);
  EXPECT_FALSE(a.firewall.rules[1].allow);
  EXPECT_EQ(a.firewall.rules[2].protocol, ir::Protocol::Icmp);
  EXPECT_TRUE(a.firewall.rules[2].any_peer);
  EXPECT_TRUE(a.firewall.rules[2].ports.empty());
  EXPECT_EQ(countCode(out, "overlapping-ports"), 1u) << rendered(out);
  EXPECT_EQ(countCode(out, "overlapping-cidr"), 1u) << rendered(out);
}

TEST(HostLowerTest, OverlappingPortsAreLocated) {
  auto out = check(inProject(
      container("a", kContainerA, "firewall { ingress allow udp port 5000-5010, 5010 }")));
  ASSERT_TRUE(out.ok) << rendered(out);
  const auto& d = only(out, "overlapping-ports");
  EXPECT_EQ(d.message, "port `5010` overlaps `5000-5010` in the same rule; the ranges are merged");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
}

TEST(HostLowerTest, NetworkExitsDnsAndIpv4Mode) {
  auto out = check(inProject(
      container("a", kContainerA,
                "network { ipv4 nat; exit socks5 198.51.100.10:1080; dns 198.51.100.53, "
                "2001:db8::53 }") +
      container("b", kContainerB, "network { exit block }")));
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::HostContainer& a = named(out, "a");
  ASSERT_TRUE(a.has_network);
  EXPECT_EQ(a.network.ipv4, ir::Ipv4Mode::Nat);
  ASSERT_EQ(a.network.exits.size(), 1u);
  EXPECT_EQ(a.network.exits[0].kind, ir::Exit::Kind::Socks5);
  EXPECT_EQ(a.network.exits[0].address.v4, address("198.51.100.10").v4);
  EXPECT_EQ(a.network.exits[0].port, 1080);
  ASSERT_EQ(a.network.dns.size(), 2u);
  EXPECT_FALSE(a.network.dns[1].is_v4);

  const ir::HostContainer& b = named(out, "b");
  EXPECT_EQ(b.network.ipv4, ir::Ipv4Mode::None) << "no `ipv4` line means no IPv4";
  ASSERT_EQ(b.network.exits.size(), 1u);
  EXPECT_EQ(b.network.exits[0].kind, ir::Exit::Kind::Block);
}

TEST(HostLowerTest, VpnExitResolvesTheRealmsProvider) {
  const std::string key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  std::string policy =
      "realm r {\n"
      "  provider mullvad { wireguard { endpoint 198.51.100.20:51820; public_key \"" + key +
      "\"; address 10.64.0.2/32 } }\n"
      "  project p id " + std::string(kProjectId) + " {\n" +
      container("a", kContainerA, "network { exit vpn mullvad }") + "  }\n}\n";
  auto out = check(policy);
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::Exit& exit = named(out, "a").network.exits.at(0);
  EXPECT_EQ(exit.kind, ir::Exit::Kind::Wireguard);
  EXPECT_EQ(exit.provider, "mullvad");
  EXPECT_EQ(exit.wireguard.public_key, key);
  EXPECT_EQ(exit.wireguard.endpoint.v4, address("198.51.100.20").v4);
  EXPECT_EQ(exit.wireguard.endpoint_port, 51820);
  EXPECT_EQ(exit.wireguard.addresses, std::vector<std::string>{"10.64.0.2/32"});
  EXPECT_EQ(exit.interface, "hwg" + std::string(kContainerA).substr(0, 12));
  EXPECT_EQ(exit.interface.size(), 15u);
}

TEST(HostLowerTest, SeccompProfilesAreSharedWhenRulesMatch) {
  std::string rules = "seccomp default { deny ptrace; deny mount, umount2 errno EACCES; kill bpf }";
  auto out = check(inProject(container("a", kContainerA, rules) +
                             container("b", kContainerB, rules) +
                             container("c", kContainerC, "seccomp default { allow ptrace }")));
  ASSERT_TRUE(out.ok) << rendered(out);
  ASSERT_EQ(out.host.seccomp_profiles.size(), 3u);
  EXPECT_EQ(named(out, "a").seccomp_profile, 1u);
  EXPECT_EQ(named(out, "b").seccomp_profile, 1u);
  EXPECT_EQ(named(out, "c").seccomp_profile, 2u);
  const ir::SeccompProfile& shared = out.host.seccomp_profiles[1];
  EXPECT_EQ(shared.name, "c-" + std::string(kContainerA));
  ASSERT_EQ(shared.rules.size(), 4u);
  EXPECT_EQ(shared.rules[0].syscall, "ptrace");
  EXPECT_EQ(shared.rules[0].action, ir::SeccompAction::Errno);
  EXPECT_EQ(shared.rules[0].errno_value, EPERM);
  EXPECT_EQ(shared.rules[2].syscall, "umount2");
  EXPECT_EQ(shared.rules[2].errno_value, EACCES);
  EXPECT_EQ(shared.rules[3].action, ir::SeccompAction::Kill);
  EXPECT_EQ(out.host.seccomp_profiles[2].rules.at(0).action, ir::SeccompAction::Allow);
}

class HostInventoryTest : public ::testing::Test {
 protected:
  driver::FrontEndOutput run(const std::string& containers, bool require) {
    std::string policy = inProject(container("a", kContainerA) + container("b", kContainerB));
    driver::FrontEndOptions options;
    options.files.push_back(dir_.write("p.hoody", policy));
    options.inventory_path = dir_.write(
        "inventory.json",
        "{ \"node\": \"n1\", \"domain\": \"example.net\", \"containers\": {" + containers + "} }");
    options.require_host_inventory = require;
    return driver::runFrontEnd(options);
  }

  TempDir dir_;
};

TEST_F(HostInventoryTest, JoinsInterfaceAddressesAndSeccompFile) {
  auto out = run("\"" + std::string(kContainerA) +
                     "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"veth-a\", "
                     "\"addresses\": [\"2001:db8::10\", \"192.0.2.10\"], "
                     "\"seccomp_file\": \"/var/lib/lxc/a/seccomp\" }",
                 false);
  ASSERT_TRUE(out.ok) << rendered(out);
  const ir::HostContainer& a = named(out, "a");
  EXPECT_EQ(a.interface, "veth-a");
  ASSERT_EQ(a.addresses.size(), 2u);
  EXPECT_FALSE(a.addresses[0].is_v4);
  EXPECT_EQ(a.addresses[1].v4, address("192.0.2.10").v4);
  EXPECT_EQ(a.seccomp_file, "/var/lib/lxc/a/seccomp");
  EXPECT_EQ(out.host.node, "n1");
  EXPECT_TRUE(named(out, "b").interface.empty());
  EXPECT_EQ(countCode(out, "missing-inventory-entry"), 0u) << "only apply asks for interfaces";
}

TEST_F(HostInventoryTest, ApplyWarnsAboutContainersWithoutInterface) {
  auto out = run("\"" + std::string(kContainerA) +
                     "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"veth-a\" }",
                 true);
  ASSERT_TRUE(out.ok) << rendered(out);
  const auto& d = only(out, "missing-inventory-entry");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_NE(d.message.find("container `b` has no `interface`"), std::string::npos) << d.message;
}

TEST_F(HostInventoryTest, BadHostFieldsAreErrors) {
  auto out = run("\"" + std::string(kContainerA) +
                     "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"a/b\", "
                     "\"addresses\": [\"10.0.0.300\"], \"seccomp_file\": \"relative/path\" }",
                 false);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(countCode(out, "invalid-inventory"), 2u) << rendered(out);
  const auto& bad = only(out, "invalid-address");
  EXPECT_NE(bad.message.find("`10.0.0.300`"), std::string::npos) << bad.message;
}

TEST_F(HostInventoryTest, InterfaceNamesNftablesCannotMatchAreErrors) {
  for (std::string name : {"veth\\\"a", "veth*", "veth\\\\a", "veth-0123456789ab"}) {
    auto out = run("\"" + std::string(kContainerA) + "\": { \"upstream\": \"127.0.0.1\", " +
                       "\"interface\": \"" + name + "\" }",
                   false);
    EXPECT_FALSE(out.ok) << name;
    EXPECT_EQ(countCode(out, "invalid-inventory"), 1u) << name << "\n" << rendered(out);
  }
}

}  // namespace
}  // namespace hoody::testing
