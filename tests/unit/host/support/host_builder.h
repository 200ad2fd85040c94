// SPDX-License-Identifier: Apache-2.0
// Builders for host IR values in tests: containers, firewall rules and
// exits, written with address text instead of raw ranges.
#pragma once

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/address.h"
#include "runtime/abi/host_ir.h"

namespace hoody::testing {

/// Parses an address the test wrote; aborts on a typo in the test itself.
inline ir::IpAddress address(std::string_view text) {
  auto a = net::parseAddress(text);
  if (!a) abort();
  return *a;
}

/// Returns `hex` (24 hex digits) as an ID.
inline ir::Id96 id(std::string_view hex) {
  ir::Id96 out{};
  for (size_t i = 0; i < out.size() && 2 * i + 1 < hex.size(); ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

inline ir::HostContainer container(std::string name, std::string_view id_hex,
                                   std::string interface,
                                   std::initializer_list<const char*> addresses = {}) {
  ir::HostContainer c;
  c.realm = "acme";
  c.project = "shop";
  c.name = std::move(name);
  c.id = id(id_hex);
  c.interface = std::move(interface);
  for (const char* a : addresses) c.addresses.push_back(address(a));
  return c;
}

/// A firewall rule; `peers` empty means every peer, `ports` are ranges.
inline ir::FirewallRule rule(ir::Direction direction, bool allow, ir::Protocol protocol,
                             std::initializer_list<const char*> peers = {},
                             std::vector<ir::PortRange> ports = {},
                             std::string origin = "team.hoody:1") {
  ir::FirewallRule r;
  r.direction = direction;
  r.allow = allow;
  r.protocol = protocol;
  r.any_peer = peers.size() == 0;
  for (const char* p : peers) {
    auto cidr = net::parseCidr(p);
    if (!cidr) abort();
    net::addToSet(r.peers, *cidr);
  }
  r.ports = std::move(ports);
  r.origin = std::move(origin);
  return r;
}

inline ir::Exit proxyExit(ir::Exit::Kind kind, std::string_view host, uint16_t port) {
  ir::Exit e;
  e.kind = kind;
  e.address = address(host);
  e.port = port;
  e.origin = "team.hoody:9";
  return e;
}

inline ir::Exit wireguardExit(std::string_view endpoint, uint16_t port, std::string interface) {
  ir::Exit e;
  e.kind = ir::Exit::Kind::Wireguard;
  e.wireguard.endpoint = address(endpoint);
  e.wireguard.endpoint_port = port;
  e.interface = std::move(interface);
  e.origin = "team.hoody:10";
  return e;
}

inline ir::Exit blockExit() {
  ir::Exit e;
  e.kind = ir::Exit::Kind::Block;
  return e;
}

/// Gives `c` a network block with IPv4 mode `mode`.
inline void setNetwork(ir::HostContainer& c, ir::Ipv4Mode mode, std::vector<ir::Exit> exits = {},
                       std::initializer_list<const char*> dns = {}) {
  c.has_network = true;
  c.network.ipv4 = mode;
  c.network.exits = std::move(exits);
  for (const char* d : dns) c.network.dns.push_back(address(d));
  c.network.origin = "team.hoody:8";
}

}  // namespace hoody::testing
