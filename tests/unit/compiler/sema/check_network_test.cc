// SPDX-License-Identifier: Apache-2.0
// Tests of firewall and network checks: invalid-port, invalid-port-range,
// invalid-firewall-rule, unknown-protocol, invalid-network-setting,
// invalid-wireguard-key, missing-setting and too-many-dns-servers.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

driver::FrontEndOutput checkContainer(const std::string& body) {
  return check(inProject("permissions { default allow http }\n" + container("a", kContainerA, body)));
}

const char* kKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

TEST(CheckNetworkTest, ValidFirewallAndNetwork) {
  auto out = checkContainer(
      "firewall { default deny; ingress allow tcp from 203.0.113.0/24 port 443, 8000-8100\n"
      " egress allow udp to 198.51.100.53 port 53; ingress deny icmp from 0.0.0.0/0\n"
      " egress allow icmpv6 to ::/0 }\n"
      "network { ipv4 none; exit socks5 198.51.100.10:1080; exit https [2001:db8::1]:443\n"
      " dns 198.51.100.53, 198.51.100.54 }");
  EXPECT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
}

TEST(CheckNetworkTest, InvalidPorts) {
  auto out = checkContainer("firewall { ingress allow tcp port 0, 65536, 080, http, 10-x }");
  auto errors = withCode(out, "invalid-port");
  ASSERT_EQ(errors.size(), 5u) << rendered(out);
  EXPECT_EQ(errors[0]->message, "`0` is not a port number");
  EXPECT_EQ(errors[4]->message, "`10-x` is not a port range");
}

TEST(CheckNetworkTest, ReversedPortRange) {
  auto out = checkContainer("firewall { ingress allow tcp port 8100-8000 }");
  const auto& d = only(out, "invalid-port-range");
  EXPECT_EQ(d.message, "port range `8100-8000` starts after it ends");
  EXPECT_EQ(d.help, "write `8000-8100`");
}

TEST(CheckNetworkTest, PeerKeywordMustMatchDirection) {
  auto out = checkContainer("firewall { ingress allow tcp to 203.0.113.0/24 }");
  EXPECT_EQ(only(out, "invalid-firewall-rule").message, "ingress rules name their peers with `from`");
}

TEST(CheckNetworkTest, PortsOnlyForTcpAndUdp) {
  auto out = checkContainer("firewall { ingress allow icmp from 0.0.0.0/0 port 1 }");
  EXPECT_EQ(only(out, "invalid-firewall-rule").message,
            "`icmp` has no ports; ports apply to `tcp` and `udp`");
}

TEST(CheckNetworkTest, IcmpFamilyMismatch) {
  auto out = checkContainer("firewall { egress allow icmp to ::/0; egress allow icmpv6 to 0.0.0.0/0 }");
  EXPECT_EQ(countCode(out, "invalid-firewall-rule"), 2u) << rendered(out);
}

TEST(CheckNetworkTest, UnknownProtocol) {
  auto out = checkContainer("firewall { ingress allow tpc port 22 }");
  const auto& d = only(out, "unknown-protocol");
  EXPECT_EQ(d.message, "`tpc` is not a firewall protocol");
  EXPECT_EQ(d.help.rfind("did you mean `tcp`?", 0), 0u);
}

TEST(CheckNetworkTest, InvalidNetworkSettings) {
  auto out = checkContainer("network { ipv4 dual; exit ftp 198.51.100.10:21 }");
  EXPECT_EQ(countCode(out, "invalid-network-setting"), 2u) << rendered(out);
}

TEST(CheckNetworkTest, ExitEndpointNeedsPortAndBrackets) {
  auto out = checkContainer("network { exit socks5 198.51.100.10; exit http 2001:db8::1:8080 }");
  auto errors = withCode(out, "invalid-address");
  ASSERT_EQ(errors.size(), 2u) << rendered(out);
  EXPECT_EQ(errors[0]->message, "`198.51.100.10` is not an address with a port");
  EXPECT_EQ(errors[1]->message, "IPv6 endpoint `2001:db8::1:8080` needs brackets");
}

TEST(CheckNetworkTest, BlockContradictsOtherExits) {
  auto out = checkContainer("network { exit block; exit socks5 198.51.100.10:1080 }");
  EXPECT_EQ(only(out, "invalid-network-setting").message,
            "`exit block` contradicts the other exits of this network block");
}

TEST(CheckNetworkTest, TooManyDnsServers) {
  auto out = checkContainer(
      "network { dns 198.51.100.1, 198.51.100.2, 198.51.100.3\n dns 198.51.100.4, 198.51.100.5 }");
  const auto& d = only(out, "too-many-dns-servers");
  EXPECT_EQ(d.message, "5 DNS servers are listed; at most 4 are supported");
  EXPECT_EQ(d.span.line, 6);
}

TEST(CheckNetworkTest, WireguardExitChecks) {
  auto out = checkContainer(std::string("network { exit wireguard { endpoint 198.51.100.20:51820; "
                                        "public_key \"short\" } }"));
  EXPECT_EQ(countCode(out, "invalid-wireguard-key"), 1u) << rendered(out);
  EXPECT_EQ(only(out, "missing-setting").message, "the wireguard exit has no `address`");
}

TEST(CheckNetworkTest, ProviderNeedsWireguard) {
  auto out = check(std::string("realm r { provider mullvad { }\n provider ok { wireguard { endpoint "
                               "198.51.100.20:51820; public_key \"") +
                   kKey + "\"; address 10.64.0.2/32 } } }\n");
  EXPECT_EQ(only(out, "missing-setting").message, "provider `mullvad` has no `wireguard` block");
}

TEST(CheckNetworkTest, OneWireguardExitPerContainer) {
  std::string wg = std::string("exit wireguard { endpoint 198.51.100.20:51820; public_key \"") +
                   kKey + "\"; address 10.64.0.2/32 }";
  auto out = checkContainer("network {\n" + wg + "\n" + wg + "\n}");
  const auto& d = only(out, "invalid-network-setting");
  EXPECT_NE(d.message.find("one WireGuard exit"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace hoody::testing
