// SPDX-License-Identifier: Apache-2.0
// A small routed network in namespaces: a host that forwards IPv4 and IPv6,
// containers behind veth pairs, an outside network and WireGuard-like
// tunnels, all on documentation addresses that exist only inside these
// namespaces.
//
//   container k (eth0) ── veth <interface> ── host ── up0 ── outside (eth0)
//   192.0.2.16(k-1)+10/28      192.0.2.16(k-1)+1/28   203.0.113.1/24   203.0.113.2/24
//   2001:db8:k::10/64          2001:db8:k::1/64       2001:db8:ff::1   2001:db8:ff::2
//
// The outside also has the peers 198.51.100.{10,11,53,54,77}/32 and
// 2001:db8:100::{10,11,53,54,77}/128 on its loopback. A tunnel is another
// veth from the host (named like a WireGuard interface) to a namespace
// with 2001:db8:200::2/64.
//
// Duplicate address detection is off in every namespace: while a link-local
// address is tentative the kernel sends no neighbour solicitations for
// forwarded packets, which would drop the first second of traffic.
#pragma once

#include <fmt/format.h>

#include <memory>

#include "tests/unit/host/support/netns.h"

namespace hoody::testing {

struct ContainerNet {
  std::string interface;  ///< Host side of the veth pair.
  std::unique_ptr<NetNamespace> ns;
  std::string v4;       ///< The container's address.
  std::string v6;
  std::string host_v4;  ///< The host's address on this link.
  std::string host_v6;
};

inline const std::vector<std::string> kOutsidePeersV4 = {
    "198.51.100.10", "198.51.100.11", "198.51.100.53", "198.51.100.54", "198.51.100.77"};
inline const std::vector<std::string> kOutsidePeersV6 = {
    "2001:db8:100::10", "2001:db8:100::11", "2001:db8:100::53", "2001:db8:100::54",
    "2001:db8:100::77"};
inline constexpr const char* kTunnelPeer = "2001:db8:200::2";

class Topology {
 public:
  Topology() {
    if (!host_.created() || !outside_.created()) {
      fail("ip netns add", host_.created() ? outside_.error() : host_.error());
      return;
    }
    setupHost();
    setupOutside();
  }

  bool ok() const { return error_.empty(); }
  /// The first setup step that failed, with its output.
  const std::string& error() const { return error_; }
  const NetNamespace& host() const { return host_; }
  const NetNamespace& outside() const { return outside_; }

  /// Adds container `index` (1..14) behind host interface `interface`.
  ContainerNet& addContainer(const std::string& interface, int index) {
    auto c = std::make_unique<ContainerNet>();
    c->interface = interface;
    c->ns = std::make_unique<NetNamespace>();
    int base = 16 * (index - 1);
    c->v4 = fmt::format("192.0.2.{}", base + 10);
    c->host_v4 = fmt::format("192.0.2.{}", base + 1);
    c->v6 = fmt::format("2001:db8:{:x}::10", index);
    c->host_v6 = fmt::format("2001:db8:{:x}::1", index);
    if (!c->ns->created()) {
      fail("ip netns add", c->ns->error());
    } else {
      const NetNamespace& ns = *c->ns;
      withoutDad(ns);
      link(interface, ns);
      must(host_.ip({"addr", "add", c->host_v4 + "/28", "dev", interface}));
      must(host_.ip({"addr", "add", c->host_v6 + "/64", "dev", interface, "nodad"}));
      must(ns.ip({"addr", "add", c->v4 + "/28", "dev", "eth0"}));
      must(ns.ip({"addr", "add", c->v6 + "/64", "dev", "eth0", "nodad"}));
      must(ns.ip({"route", "add", "default", "via", c->host_v4}));
      must(ns.ip({"-6", "route", "add", "default", "via", c->host_v6}));
    }
    containers_.push_back(std::move(c));
    return *containers_.back();
  }

  /// Adds a tunnel namespace behind host interface `interface`; the host
  /// routes 2001:db8:200::/64 into it.
  const NetNamespace& addTunnel(const std::string& interface) {
    tunnels_.push_back(std::make_unique<NetNamespace>());
    const NetNamespace& ns = *tunnels_.back();
    if (!ns.created()) {
      fail("ip netns add", ns.error());
      return ns;
    }
    withoutDad(ns);
    link(interface, ns);
    must(host_.ip({"addr", "add", "2001:db8:200::1/64", "dev", interface, "nodad"}));
    must(ns.ip({"addr", "add", std::string(kTunnelPeer) + "/64", "dev", "eth0", "nodad"}));
    must(ns.ip({"-6", "route", "add", "default", "via", "2001:db8:200::1"}));
    return ns;
  }

  /// Adds `address` (with prefix) to a container's eth0, e.g. to send from
  /// an address that is not its own in the inventory.
  void addAddress(const ContainerNet& c, const std::string& cidr) {
    std::vector<std::string> args = {"addr", "add", cidr, "dev", "eth0"};
    if (cidr.find(':') != std::string::npos) args.push_back("nodad");
    must(c.ns->ip(args));
  }

 private:
  void fail(const std::string& step, const std::string& output) {
    if (error_.empty()) error_ = step + ": " + output;
  }

  void must(const CommandResult& r) {
    if (!r.ok()) fail("setup command", r.output);
  }

  void withoutDad(const NetNamespace& ns) {
    must(ns.sysctl({"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"}));
  }

  // Reverse-path filtering would drop spoofed sources before nftables
  // does, and the tests check that nftables drops them.
  void setupHost() {
    withoutDad(host_);
    must(host_.sysctl({"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                       "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"}));
  }

  void setupOutside() {
    withoutDad(outside_);
    link("up0", outside_);
    must(host_.ip({"addr", "add", "203.0.113.1/24", "dev", "up0"}));
    must(host_.ip({"addr", "add", "2001:db8:ff::1/64", "dev", "up0", "nodad"}));
    must(outside_.ip({"addr", "add", "203.0.113.2/24", "dev", "eth0"}));
    must(outside_.ip({"addr", "add", "2001:db8:ff::2/64", "dev", "eth0", "nodad"}));
    for (const std::string& a : kOutsidePeersV4) {
      must(outside_.ip({"addr", "add", a + "/32", "dev", "lo"}));
    }
    for (const std::string& a : kOutsidePeersV6) {
      must(outside_.ip({"addr", "add", a + "/128", "dev", "lo", "nodad"}));
    }
    must(host_.ip({"route", "add", "198.51.100.0/24", "via", "203.0.113.2"}));
    must(host_.ip({"-6", "route", "add", "2001:db8:100::/64", "via", "2001:db8:ff::2"}));
    must(outside_.ip({"route", "add", "default", "via", "203.0.113.1"}));
    must(outside_.ip({"-6", "route", "add", "default", "via", "2001:db8:ff::1"}));
  }

  // Creates the veth pair `host_side` (in the host) <-> eth0 (in `peer`).
  void link(const std::string& host_side, const NetNamespace& peer) {
    must(host_.ip({"link", "add", host_side, "type", "veth", "peer", "name", "eth0", "netns",
                   peer.name()}));
    must(host_.ip({"link", "set", host_side, "up"}));
    must(peer.ip({"link", "set", "eth0", "up"}));
  }

  NetNamespace host_;
  NetNamespace outside_;
  std::vector<std::unique_ptr<ContainerNet>> containers_;
  std::vector<std::unique_ptr<NetNamespace>> tunnels_;
  std::string error_;
};

}  // namespace hoody::testing
