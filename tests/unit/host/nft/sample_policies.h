// SPDX-License-Identifier: Apache-2.0
// Host policies shared by the nftables tests: one that uses every rule
// kind the back end emits, and small variants for replace and plan tests.
#pragma once

#include <fmt/format.h>

#include "tests/unit/host/support/host_builder.h"

namespace hoody::testing {

/// Every rule kind: TCP and UDP with ports and ranges, ICMP, ICMPv6 and
/// `any`, both address families, all exit kinds, DNS, the three IPv4 modes,
/// `block` and anti-spoofing.
inline ir::HostPolicy everyRuleKind() {
  using ir::Direction;
  using ir::Protocol;
  ir::HostPolicy host;
  host.node = "node-us";

  ir::HostContainer web = container("web", "0f3e2d1c4b5a69788796a5b4", "veth-web",
                                    {"192.0.2.10", "2001:db8:1::10"});
  web.firewall.rules = {
      rule(Direction::Ingress, true, Protocol::Tcp, {"203.0.113.0/24", "2001:db8:ff::/48"},
           {{22, 22}, {8000, 8100}}, "team.hoody:20"),
      rule(Direction::Ingress, false, Protocol::Udp, {"192.0.2.1", "192.0.2.2/31"}, {}, "team.hoody:21"),
      rule(Direction::Ingress, true, Protocol::Icmp, {}, {}, "team.hoody:22"),
      rule(Direction::Ingress, true, Protocol::Icmpv6, {"2001:db8::/32"}, {}, "team.hoody:23"),
      rule(Direction::Egress, true, Protocol::Any, {"198.51.100.0/24"}, {}, "team.hoody:24"),
      rule(Direction::Egress, false, Protocol::Tcp, {}, {{25, 25}, {465, 465}, {587, 587}},
           "team.hoody:25"),
  };
  setNetwork(web, ir::Ipv4Mode::Public, {}, {"198.51.100.53", "2001:db8:100::53"});

  ir::HostContainer worker = container("worker", "9c8b7a6f5e4d3c2b1a0f9e8d", "veth-worker",
                                       {"2001:db8:2::20"});
  worker.firewall.ingress_allow = true;
  worker.firewall.egress_allow = true;
  setNetwork(worker, ir::Ipv4Mode::Nat,
             {proxyExit(ir::Exit::Kind::Socks5, "198.51.100.10", 1080),
              proxyExit(ir::Exit::Kind::Http, "2001:db8:100::10", 3128),
              proxyExit(ir::Exit::Kind::Https, "198.51.100.11", 443),
              wireguardExit("198.51.100.77", 51820, "hwg9c8b7a6f5e4d")},
             {"198.51.100.53", "198.51.100.54"});

  ir::HostContainer sealed = container("sealed", "5a5b5c5d5e5f505152535455", "veth-sealed");
  setNetwork(sealed, ir::Ipv4Mode::None, {blockExit()});

  ir::HostContainer plain = container("plain", "123456789abcdef012345678", "veth-plain");

  host.containers = {web, worker, sealed, plain};
  return host;
}

/// `count` containers named c0, c1, ... with IDs from their number, each
/// allowing TCP port 443 in and DNS out.
inline ir::HostPolicy manyContainers(size_t count, const std::string& interface_prefix = "vc") {
  ir::HostPolicy host;
  for (size_t i = 0; i < count; ++i) {
    ir::HostContainer c = container(fmt::format("c{}", i), fmt::format("{:024x}", i + 1),
                                    fmt::format("{}{}", interface_prefix, i));
    c.firewall.rules.push_back(rule(ir::Direction::Ingress, true, ir::Protocol::Tcp, {},
                                    {{443, 443}}, fmt::format("fleet.hoody:{}", i + 1)));
    setNetwork(c, ir::Ipv4Mode::Nat, {}, {"198.51.100.53"});
    host.containers.push_back(std::move(c));
  }
  return host;
}

}  // namespace hoody::testing
