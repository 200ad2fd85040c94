// SPDX-License-Identifier: Apache-2.0
// AST -> host IR.
#include "compiler/lower/host_lower.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "compiler/sema/values.h"
#include "runtime/abi/address.h"

namespace hoody::lower {
namespace {

std::string originOf(const diag::Span& span) { return fmt::format("{}:{}", span.file, span.line); }

ir::Protocol protocolOf(std::string_view name) {
  if (name == "tcp") return ir::Protocol::Tcp;
  if (name == "udp") return ir::Protocol::Udp;
  if (name == "icmp") return ir::Protocol::Icmp;
  if (name == "icmpv6") return ir::Protocol::Icmpv6;
  return ir::Protocol::Any;
}

// Sorts and merges port ranges; touching ranges become one.
std::vector<ir::PortRange> mergePorts(std::vector<ir::PortRange> ports) {
  std::sort(ports.begin(), ports.end(), [](const ir::PortRange& a, const ir::PortRange& b) {
    return a.first < b.first || (a.first == b.first && a.last < b.last);
  });
  std::vector<ir::PortRange> merged;
  for (const ir::PortRange& p : ports) {
    if (!merged.empty() && static_cast<uint32_t>(p.first) <= merged.back().last + 1u) {
      merged.back().last = std::max(merged.back().last, p.last);
    } else {
      merged.push_back(p);
    }
  }
  return merged;
}

std::optional<ir::PortRange> parsePortEntry(const std::string& text) {
  size_t dash = text.find('-');
  if (dash == std::string::npos) {
    auto port = sema::parsePort(text);
    if (!port) return std::nullopt;
    return ir::PortRange{*port, *port};
  }
  auto first = sema::parsePort(text.substr(0, dash));
  auto last = sema::parsePort(text.substr(dash + 1));
  if (!first || !last) return std::nullopt;
  return ir::PortRange{*first, *last};
}

ir::FirewallRule lowerRule(const ast::FirewallRule& rule) {
  ir::FirewallRule out;
  out.direction = rule.direction.text == "egress" ? ir::Direction::Egress : ir::Direction::Ingress;
  out.allow = rule.allow;
  out.protocol = protocolOf(rule.protocol.text);
  out.any_peer = rule.addresses.empty();
  for (const ast::Word& a : rule.addresses) {
    if (auto cidr = net::parseCidr(a.text)) net::addToSet(out.peers, *cidr);
  }
  std::vector<ir::PortRange> ports;
  for (const ast::Word& p : rule.ports) {
    if (auto range = parsePortEntry(p.text)) ports.push_back(*range);
  }
  out.ports = mergePorts(std::move(ports));
  out.origin = originOf(rule.span);
  return out;
}

ir::Firewall lowerFirewall(const ast::Container& c) {
  ir::Firewall out;
  if (!c.firewall) return out;
  bool allow = c.firewall->default_rule && c.firewall->default_rule->allow;
  out.ingress_allow = allow;
  out.egress_allow = allow;
  for (const ast::FirewallRule& rule : c.firewall->rules) out.rules.push_back(lowerRule(rule));
  return out;
}

ir::WireguardPeer lowerWireguard(const ast::WireguardSpec& spec) {
  ir::WireguardPeer peer;
  if (spec.endpoint) {
    if (auto parts = sema::splitEndpoint(spec.endpoint->text)) {
      if (auto address = net::parseAddress(parts->address)) peer.endpoint = *address;
      peer.endpoint_port = sema::parsePort(parts->port).value_or(0);
    }
  }
  if (spec.public_key) peer.public_key = spec.public_key->value;
  for (const ast::Word& a : spec.addresses) peer.addresses.push_back(a.text);
  return peer;
}

ir::Network lowerNetwork(const sema::RealmScope& realm, const ast::Container& c) {
  const ast::Network& network = *c.network;
  ir::Network out;
  out.origin = originOf(network.span);
  if (network.ipv4) {
    if (network.ipv4->text == "nat") out.ipv4 = ir::Ipv4Mode::Nat;
    if (network.ipv4->text == "public") out.ipv4 = ir::Ipv4Mode::Public;
  }
  std::string interface = wireguardInterfaceName(sema::parseId(c.id.text).value_or(ir::Id96{}));
  for (const ast::Exit& exit : network.exits) {
    ir::Exit e;
    e.origin = originOf(exit.span);
    switch (exit.kind) {
      case ast::Exit::Kind::Proxy: {
        const std::string& scheme = exit.scheme.text;
        e.kind = scheme == "socks5" ? ir::Exit::Kind::Socks5
                 : scheme == "http" ? ir::Exit::Kind::Http
                                    : ir::Exit::Kind::Https;
        if (auto parts = sema::splitEndpoint(exit.address.text)) {
          if (auto address = net::parseAddress(parts->address)) e.address = *address;
          e.port = sema::parsePort(parts->port).value_or(0);
        }
        break;
      }
      case ast::Exit::Kind::Wireguard:
        e.kind = ir::Exit::Kind::Wireguard;
        e.wireguard = lowerWireguard(exit.wireguard);
        e.interface = interface;
        break;
      case ast::Exit::Kind::Vpn: {
        e.kind = ir::Exit::Kind::Wireguard;
        e.provider = exit.provider.text;
        auto it = realm.providers.find(exit.provider.text);
        if (it != realm.providers.end() && it->second->wireguard) {
          e.wireguard = lowerWireguard(*it->second->wireguard);
        }
        e.interface = interface;
        break;
      }
      case ast::Exit::Kind::Block:
        e.kind = ir::Exit::Kind::Block;
        break;
    }
    out.exits.push_back(std::move(e));
  }
  for (const ast::Word& d : network.dns) {
    if (auto address = net::parseAddress(d.text)) out.dns.push_back(*address);
  }
  return out;
}

// Maps an errno name of this C library to its number.
int errnoValue(std::string_view name) {
  for (int e = 1; e < 4096; ++e) {
    const char* known = strerrorname_np(e);
    if (known != nullptr && name == known) return e;
  }
  return EPERM;
}

std::vector<ir::SeccompRule> lowerSeccomp(const ast::Seccomp& seccomp) {
  std::vector<ir::SeccompRule> rules;
  for (const ast::SeccompRule& rule : seccomp.rules) {
    ir::SeccompRule base;
    const std::string& action = rule.action.text;
    if (action == "allow") base.action = ir::SeccompAction::Allow;
    if (action == "kill") base.action = ir::SeccompAction::Kill;
    if (action == "log") base.action = ir::SeccompAction::Log;
    if (action == "trap") base.action = ir::SeccompAction::Trap;
    base.errno_value = rule.errno_name ? errnoValue(rule.errno_name->text) : EPERM;
    if (base.action != ir::SeccompAction::Errno) base.errno_value = 0;
    base.origin = originOf(rule.span);
    for (const ast::Word& syscall : rule.syscalls) {
      ir::SeccompRule r = base;
      r.syscall = syscall.text;
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

// True when both lists give every system call the same action; origins are
// not compared.
bool sameRules(const std::vector<ir::SeccompRule>& a, const std::vector<ir::SeccompRule>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const ir::SeccompRule& x, const ir::SeccompRule& y) {
                      return x.syscall == y.syscall && x.action == y.action &&
                             x.errno_value == y.errno_value;
                    });
}

uint32_t profileFor(ir::HostPolicy& host, const ast::Container& c, const ir::Id96& id) {
  if (!c.seccomp || c.seccomp->rules.empty()) return 0;
  std::vector<ir::SeccompRule> rules = lowerSeccomp(*c.seccomp);
  for (size_t i = 1; i < host.seccomp_profiles.size(); ++i) {
    if (sameRules(host.seccomp_profiles[i].rules, rules)) return static_cast<uint32_t>(i);
  }
  host.seccomp_profiles.push_back({"c-" + sema::formatId(id), std::move(rules)});
  return static_cast<uint32_t>(host.seccomp_profiles.size() - 1);
}

}  // namespace

std::string wireguardInterfaceName(const ir::Id96& container) {
  return "hwg" + sema::formatId(container).substr(0, 12);
}

ir::HostPolicy lowerHost(const sema::Scope& scope) {
  ir::HostPolicy host;
  host.seccomp_profiles.push_back({"default", {}});
  for (const sema::RealmScope& realm : scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      ir::Id96 project_id = sema::parseId(project.id.text).value_or(ir::Id96{});
      for (const ast::Container& c : project.containers) {
        ir::HostContainer out;
        out.realm = realm.realm->name.text;
        out.project = project.name.text;
        out.name = c.name.text;
        out.id = sema::parseId(c.id.text).value_or(ir::Id96{});
        out.project_id = project_id;
        out.firewall = lowerFirewall(c);
        if (c.network) {
          out.has_network = true;
          out.network = lowerNetwork(realm, c);
        }
        out.seccomp_profile = profileFor(host, c, out.id);
        host.containers.push_back(std::move(out));
      }
    }
  }
  return host;
}

}  // namespace hoody::lower
