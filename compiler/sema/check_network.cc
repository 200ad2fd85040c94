// SPDX-License-Identifier: Apache-2.0
// Container firewall and network settings: directions, protocols, ports,
// exits, WireGuard peers and the DNS server limit.
#include <fmt/format.h>

#include <algorithm>

#include "compiler/sema/address_check.h"
#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"
#include "runtime/abi/address.h"

namespace hoody::sema {
namespace {

// A container lists at most 4 DNS servers; the network layer is built
// around that limit.
constexpr size_t kMaxDnsServers = 4;

constexpr const char* kPortHelp = "write a decimal port 1..65535, or a range like `8000-8100`";

// Checks `443` or `8000-8100`.
void checkPortEntry(Context& ctx, const ast::Word& entry) {
  const std::string& text = entry.text;
  size_t dash = text.find('-');
  if (dash == std::string::npos) {
    if (!parsePort(text)) {
      ctx.sink.error("invalid-port", entry.span,
                     fmt::format("{} is not a port number", diag::quote(text)), kPortHelp);
    }
    return;
  }
  auto first = parsePort(text.substr(0, dash));
  auto last = parsePort(text.substr(dash + 1));
  if (!first || !last) {
    ctx.sink.error("invalid-port", entry.span,
                   fmt::format("{} is not a port range", diag::quote(text)), kPortHelp);
    return;
  }
  if (*first > *last) {
    ctx.sink.error("invalid-port-range", entry.span,
                   fmt::format("port range {} starts after it ends", diag::quote(text)),
                   fmt::format("write `{}-{}`", *last, *first));
  }
}

// Warns once per port entry that overlaps an earlier entry of the same rule:
// the ruleset merges them into one interval.
void reportPortOverlaps(Context& ctx, const std::vector<ast::Word>& ports) {
  struct Entry {
    const ast::Word* word;
    uint16_t first;
    uint16_t last;
  };
  std::vector<Entry> seen;
  for (const ast::Word& port : ports) {
    const std::string& text = port.text;
    size_t dash = text.find('-');
    auto first = parsePort(dash == std::string::npos ? text : text.substr(0, dash));
    auto last = dash == std::string::npos ? first : parsePort(text.substr(dash + 1));
    if (!first || !last || *first > *last) continue;
    for (const Entry& e : seen) {
      if (*first <= e.last && e.first <= *last) {
        ctx.sink.warning("overlapping-ports", port.span,
                         fmt::format("port {} overlaps {} in the same rule; the ranges are merged",
                                     diag::quote(text), diag::quote(e.word->text)),
                         "remove the redundant entry");
        break;
      }
    }
    seen.push_back({&port, *first, *last});
  }
}

// Checks `ADDR:PORT` or `[IPV6]:PORT`.
void checkEndpoint(Context& ctx, const ast::Word& endpoint) {
  auto parts = splitEndpoint(endpoint.text);
  if (!parts || parts->port.empty()) {
    ctx.sink.error("invalid-address", endpoint.span,
                   fmt::format("{} is not an address with a port", diag::quote(endpoint.text)),
                   "write `ADDRESS:PORT`, e.g. `198.51.100.10:1080` or `[2001:db8::1]:1080`");
    return;
  }
  bool bracketed = !endpoint.text.empty() && endpoint.text[0] == '[';
  if (!bracketed && parts->address.find(':') != std::string::npos) {
    ctx.sink.error("invalid-address", endpoint.span,
                   fmt::format("IPv6 endpoint {} needs brackets", diag::quote(endpoint.text)),
                   "write IPv6 endpoints as `[2001:db8::1]:1080`");
    return;
  }
  ast::Word address{parts->address, endpoint.span};
  if (!checkAddressEntry(ctx, address, false)) return;
  if (!parsePort(parts->port)) {
    ctx.sink.error("invalid-port", endpoint.span,
                   fmt::format("{} in {} is not a port number", diag::quote(parts->port),
                               diag::quote(endpoint.text)),
                   kPortHelp);
  }
}

// Returns the address families (bit 0: IPv4, bit 1: IPv6) of valid entries.
int familiesOf(const std::vector<ast::Word>& addresses) {
  int families = 0;
  for (const ast::Word& a : addresses) {
    auto cidr = net::parseCidr(a.text);
    if (cidr) families |= cidr->network.is_v4 ? 1 : 2;
  }
  return families;
}

void checkFirewallRule(Context& ctx, const ast::FirewallRule& rule) {
  bool ingress = rule.direction.text == "ingress";
  if (rule.peer_keyword) {
    std::string_view expected = ingress ? "from" : "to";
    if (rule.peer_keyword->text != expected) {
      ctx.sink.error("invalid-firewall-rule", rule.peer_keyword->span,
                     fmt::format("{} rules name their peers with `{}`", rule.direction.text,
                                 expected),
                     fmt::format("write `{} {} ...`", rule.direction.text, expected));
    }
  }
  static const std::vector<std::string> kProtocols = {"tcp", "udp", "icmp", "icmpv6", "any"};
  const std::string& protocol = rule.protocol.text;
  if (std::find(kProtocols.begin(), kProtocols.end(), protocol) == kProtocols.end()) {
    std::string help = didYouMean(protocol, kProtocols);
    if (!help.empty()) help += " ";
    help += "protocols are " + listNames(kProtocols);
    ctx.sink.error("unknown-protocol", rule.protocol.span,
                   fmt::format("{} is not a firewall protocol", diag::quote(protocol)), help);
    return;
  }
  if (!rule.ports.empty() && protocol != "tcp" && protocol != "udp") {
    ctx.sink.error("invalid-firewall-rule", rule.ports.front().span,
                   fmt::format("`{}` has no ports; ports apply to `tcp` and `udp`", protocol),
                   "remove the ports, or write one rule per protocol");
  }
  for (const ast::Word& port : rule.ports) checkPortEntry(ctx, port);
  reportPortOverlaps(ctx, rule.ports);
  int families = familiesOf(rule.addresses);
  if (protocol == "icmp" && (families & 2)) {
    ctx.sink.error("invalid-firewall-rule", rule.protocol.span,
                   "`icmp` is IPv4 only, but the rule lists IPv6 addresses",
                   "use `icmpv6` for IPv6 peers, in a separate rule");
  }
  if (protocol == "icmpv6" && (families & 1)) {
    ctx.sink.error("invalid-firewall-rule", rule.protocol.span,
                   "`icmpv6` is IPv6 only, but the rule lists IPv4 addresses",
                   "use `icmp` for IPv4 peers, in a separate rule");
  }
}

void checkWireguard(Context& ctx, const ast::WireguardSpec& wg, std::string_view owner) {
  if (!wg.endpoint) {
    ctx.sink.error("missing-setting", wg.span, fmt::format("{} has no `endpoint`", owner),
                   "add `endpoint ADDRESS:PORT` of the WireGuard peer");
  } else {
    checkEndpoint(ctx, *wg.endpoint);
  }
  if (!wg.public_key) {
    ctx.sink.error("missing-setting", wg.span, fmt::format("{} has no `public_key`", owner),
                   "add the peer's `public_key \"<base64>\"`");
  } else {
    // A WireGuard key is 32 bytes: 43 base64 characters and one `=`.
    const std::string& key = wg.public_key->value;
    bool ok = key.size() == 44 && key[43] == '=' &&
              std::all_of(key.begin(), key.begin() + 43, [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
              });
    if (!ok) {
      ctx.sink.error("invalid-wireguard-key", wg.public_key->span,
                     "WireGuard public key is not 32 bytes of base64",
                     "paste the peer's public key as printed by `wg pubkey` (44 characters)");
    }
  }
  if (wg.addresses.empty()) {
    ctx.sink.error("missing-setting", wg.span, fmt::format("{} has no `address`", owner),
                   "add the tunnel `address` assigned by the peer, e.g. `10.64.0.2/32`");
  }
}

void checkNetworkBlock(Context& ctx, const ast::Network& network) {
  if (network.ipv4) {
    static const std::vector<std::string> kModes = {"none", "nat", "public"};
    if (std::find(kModes.begin(), kModes.end(), network.ipv4->text) == kModes.end()) {
      ctx.sink.error("invalid-network-setting", network.ipv4->span,
                     fmt::format("{} is not an IPv4 mode", diag::quote(network.ipv4->text)),
                     "use `ipv4 none`, `ipv4 nat` or `ipv4 public`");
    }
  }
  const ast::Exit* block = nullptr;
  for (const ast::Exit& exit : network.exits) {
    switch (exit.kind) {
      case ast::Exit::Kind::Proxy: {
        static const std::vector<std::string> kSchemes = {"socks5", "http", "https"};
        if (std::find(kSchemes.begin(), kSchemes.end(), exit.scheme.text) == kSchemes.end()) {
          ctx.sink.error("invalid-network-setting", exit.scheme.span,
                         fmt::format("{} is not an exit kind", diag::quote(exit.scheme.text)),
                         "use `exit socks5|http|https ADDRESS:PORT`, `exit wireguard { ... }`, "
                         "`exit vpn PROVIDER` or `exit block`");
        }
        checkEndpoint(ctx, exit.address);
        break;
      }
      case ast::Exit::Kind::Wireguard:
        checkWireguard(ctx, exit.wireguard, "the wireguard exit");
        break;
      case ast::Exit::Kind::Block:
        block = &exit;
        break;
      case ast::Exit::Kind::Vpn:
        break;  // Provider names are checked with the other names.
    }
  }
  // Each container has one tunnel interface on the host, named after its ID.
  const ast::Exit* tunnel = nullptr;
  for (const ast::Exit& exit : network.exits) {
    if (exit.kind != ast::Exit::Kind::Wireguard && exit.kind != ast::Exit::Kind::Vpn) continue;
    if (tunnel != nullptr) {
      ctx.sink.error("invalid-network-setting", exit.span,
                     fmt::format("a container has one WireGuard exit, but line {} declares one "
                                 "already",
                                 tunnel->span.line),
                     "keep one `exit wireguard { ... }` or `exit vpn PROVIDER`");
      break;
    }
    tunnel = &exit;
  }
  if (block != nullptr && network.exits.size() > 1) {
    ctx.sink.error("invalid-network-setting", block->span,
                   "`exit block` contradicts the other exits of this network block",
                   "keep `exit block` to forbid outbound traffic, or remove it");
  }
  if (network.dns.size() > kMaxDnsServers) {
    ctx.sink.error("too-many-dns-servers", network.dns[kMaxDnsServers].span,
                   fmt::format("{} DNS servers are listed; at most {} are supported",
                               network.dns.size(), kMaxDnsServers),
                   "keep the four servers you trust most");
  }
}

}  // namespace

void checkNetwork(Context& ctx) {
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Provider& p : realm.realm->providers) {
      if (!p.wireguard) {
        ctx.sink.error("missing-setting", p.span,
                       fmt::format("provider `{}` has no `wireguard` block", p.name.text),
                       "add `wireguard { endpoint ...; public_key \"...\"; address ... }`");
        continue;
      }
      checkWireguard(ctx, *p.wireguard, fmt::format("provider `{}`", p.name.text));
    }
  }
  forEachContainer(ctx, [&](const ContainerSite& site) {
    const ast::Container& c = *site.container;
    if (c.firewall) {
      for (const ast::FirewallRule& rule : c.firewall->rules) checkFirewallRule(ctx, rule);
    }
    if (c.network) checkNetworkBlock(ctx, *c.network);
  });
}

}  // namespace hoody::sema
