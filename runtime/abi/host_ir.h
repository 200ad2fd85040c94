// SPDX-License-Identifier: Apache-2.0
// The host IR: what the host applier enforces for each container (firewall,
// network exits, DNS and seccomp), lowered from the checked policy and joined
// with the inventory. The nftables and seccomp back ends read only this.
//
// Egress of a container is decided in this order:
//   1. a `block` exit drops all egress (replies to accepted ingress excepted);
//   2. the firewall's egress rules, first match wins;
//   3. the exits' endpoints and the DNS servers are allowed;
//   4. when the network block declares exits, everything else is dropped;
//      otherwise the firewall's egress default applies.
// Ingress is decided by the firewall's ingress rules, first match wins, then
// its ingress default. A container without a firewall block denies both
// ways by default. The `ipv4` setting decides IPv4. `none`, also the value
// when the network block or its `ipv4` line is absent, drops all IPv4.
// `nat` drops new inbound IPv4 connections, and `public` filters IPv4 like
// IPv6.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/abi/decision_ir.h"

namespace hoody::ir {

/// Inclusive port range.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

enum class Direction : uint8_t { Ingress, Egress };
enum class Protocol : uint8_t { Any, Tcp, Udp, Icmp, Icmpv6 };

struct FirewallRule {
  Direction direction = Direction::Ingress;
  bool allow = false;
  Protocol protocol = Protocol::Any;
  bool any_peer = true;  ///< No address list: every peer.
  IpSet peers;           ///< Merged ranges; meaningful when !any_peer.
  std::vector<PortRange> ports;  ///< Sorted, merged; empty: every port.
  std::string origin;            ///< `file:line` of the rule, for comments.
  friend bool operator==(const FirewallRule&, const FirewallRule&) = default;
};

struct Firewall {
  bool ingress_allow = false;  ///< Default stance for ingress.
  bool egress_allow = false;   ///< Default stance for egress.
  std::vector<FirewallRule> rules;  ///< In policy order.
  friend bool operator==(const Firewall&, const Firewall&) = default;
};

enum class Ipv4Mode : uint8_t { None, Nat, Public };

struct WireguardPeer {
  IpAddress endpoint;
  uint16_t endpoint_port = 0;
  std::string public_key;              ///< Base64, 44 characters.
  std::vector<std::string> addresses;  ///< Tunnel addresses, CIDR text.
  friend bool operator==(const WireguardPeer& a, const WireguardPeer& b) {
    return a.endpoint.is_v4 == b.endpoint.is_v4 && a.endpoint.v4 == b.endpoint.v4 &&
           a.endpoint.v6 == b.endpoint.v6 && a.endpoint_port == b.endpoint_port &&
           a.public_key == b.public_key && a.addresses == b.addresses;
  }
};

struct Exit {
  enum class Kind : uint8_t { Socks5, Http, Https, Wireguard, Block };
  Kind kind = Kind::Block;
  IpAddress address;  ///< Proxy exits: the proxy's address.
  uint16_t port = 0;  ///< Proxy exits: the proxy's port.
  WireguardPeer wireguard;  ///< Wireguard exits, also those named by a provider.
  std::string interface;    ///< Wireguard exits: the host's tunnel interface, `hwg<id prefix>`.
  std::string provider;     ///< Set when the exit was written `exit vpn NAME`.
  std::string origin;       ///< `file:line`.
};

struct Network {
  Ipv4Mode ipv4 = Ipv4Mode::None;
  std::vector<Exit> exits;
  std::vector<IpAddress> dns;  ///< At most 4.
  std::string origin;
};

enum class SeccompAction : uint8_t { Allow, Errno, Kill, Log, Trap };

struct SeccompRule {
  std::string syscall;
  SeccompAction action = SeccompAction::Errno;
  int errno_value = 1;  ///< For Errno; EPERM unless the rule names one.
  std::string origin;
  friend bool operator==(const SeccompRule&, const SeccompRule&) = default;
};

/// A seccomp profile: the default deny list, changed by `rules` (later
/// entries win over the default list for the same system call).
struct SeccompProfile {
  std::string name;  ///< `default`, or `c-<container-id>` for a container's own.
  std::vector<SeccompRule> rules;
  friend bool operator==(const SeccompProfile&, const SeccompProfile&) = default;
};

struct HostContainer {
  std::string realm;
  std::string project;
  std::string name;
  Id96 id{};
  Id96 project_id{};
  Firewall firewall;       ///< Deny both ways when the policy declares none.
  bool has_network = false;
  Network network;         ///< Meaningful when has_network.
  uint32_t seccomp_profile = 0;  ///< Index into HostPolicy::seccomp_profiles.
  // From the inventory; empty when compiled without one.
  std::string interface;               ///< Host-side interface of the container.
  std::vector<IpAddress> addresses;    ///< The container's own addresses.
  std::string seccomp_file;            ///< Where the runtime reads its LXC seccomp policy.
};

struct HostPolicy {
  std::string node;
  std::vector<HostContainer> containers;          ///< Policy order.
  std::vector<SeccompProfile> seccomp_profiles;   ///< [0] is `default`.
};

}  // namespace hoody::ir
