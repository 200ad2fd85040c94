// SPDX-License-Identifier: Apache-2.0
// Renders wg-quick configuration files for WireGuard exits.
#include "compiler/backend/wireguard/wireguard_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "runtime/abi/address.h"

namespace hoody::wireguard {
namespace {

// wg-quick accepts interface names of this alphabet, and Linux at most
// IFNAMSIZ - 1 = 15 bytes.
bool isInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '=' || c == '+' ||
           c == '.' || c == '-';
  });
}

// A WireGuard key is 32 bytes: 43 base64 characters and one `=`.
bool isBase64Key(std::string_view key) {
  return key.size() == 44 && key[43] == '=' &&
         std::all_of(key.begin(), key.begin() + 43, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
         });
}

// wg-quick runs PostUp through bash, so paths in it are limited to characters
// that need no quoting.
bool isSafeAbsolutePath(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.find("..") != std::string_view::npos) return false;
  return std::all_of(path.begin(), path.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '.' ||
           c == '-';
  });
}

Unexpected<Error> invalidExit(const ir::Exit& exit, std::string_view problem) {
  return makeError("invalid-wireguard-exit",
                   fmt::format("wireguard exit at {}: {}", exit.origin, problem));
}

// Formats a tunnel address as `address/prefix`, keeping host bits: the
// interface address 10.64.0.2/24 is .2 in a /24, not the network.
Result<std::string> formatTunnelAddress(const ir::Exit& exit, const std::string& text) {
  auto cidr = net::parseCidr(text);
  if (!cidr) return invalidExit(exit, fmt::format("`{}` is not an address with a prefix", text));
  size_t slash = text.find('/');
  auto address = net::parseAddress(std::string_view(text).substr(0, slash));
  if (!address) return invalidExit(exit, fmt::format("`{}` is not an address with a prefix", text));
  return fmt::format("{}/{}", net::formatAddress(*address), cidr->prefix);
}

std::string formatEndpoint(const ir::WireguardPeer& peer) {
  std::string address = net::formatAddress(peer.endpoint);
  if (!peer.endpoint.is_v4) address = "[" + address + "]";
  return fmt::format("{}:{}", address, peer.endpoint_port);
}

std::string containerName(const ir::HostContainer& c) {
  return fmt::format("{}/{}/{}", c.realm, c.project, c.name);
}

Result<void> checkExit(const ir::Exit& exit, const ConfigOptions& options) {
  if (exit.kind != ir::Exit::Kind::Wireguard) {
    return makeError("not-wireguard",
                     fmt::format("exit at {} is not a WireGuard exit", exit.origin));
  }
  if (!isInterfaceName(exit.interface)) {
    return invalidExit(exit, fmt::format("interface name `{}` is not 1 to 15 characters of "
                                         "letters, digits and `_=+.-`",
                                         exit.interface));
  }
  if (!isBase64Key(exit.wireguard.public_key)) {
    return invalidExit(exit, "the peer's public key is not 32 bytes of base64 (44 characters)");
  }
  if (exit.wireguard.endpoint_port == 0) return invalidExit(exit, "the endpoint has port 0");
  if (exit.wireguard.addresses.empty()) return invalidExit(exit, "no tunnel address is given");
  if (!isSafeAbsolutePath(options.key_directory)) {
    return invalidExit(exit, fmt::format("key directory `{}` is not an absolute path of letters, "
                                         "digits and `/_.-`",
                                         options.key_directory));
  }
  return {};
}

// PostUp and PreDown lines that send the container's traffic to the table.
Result<std::string> routingLines(const ir::HostContainer& container, const ir::Exit& exit,
                                 uint32_t table) {
  if (container.addresses.empty()) {
    return makeError("missing-inventory-addresses",
                     fmt::format("container {} has no addresses in the inventory, so no traffic "
                                 "would enter its WireGuard exit at {}; add its `addresses`",
                                 containerName(container), exit.origin));
  }
  std::string up;
  std::string down;
  for (const ir::IpAddress& address : container.addresses) {
    std::string_view family = address.is_v4 ? "-4" : "-6";
    std::string source = net::formatAddress(address);
    up += fmt::format("PostUp = ip {} rule add from {} lookup {} priority {}\n", family, source,
                      table, kSourceRulePriority);
    down += fmt::format("PreDown = ip {} rule del from {} lookup {} priority {}\n", family, source,
                        table, kSourceRulePriority);
  }
  return up + down;
}

}  // namespace

std::string keyFilePath(std::string_view key_directory, std::string_view interface) {
  std::string dir(key_directory);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return fmt::format("{}/{}.key", dir == "/" ? "" : dir, interface);
}

Result<WireguardConfig> renderConfig(const ir::HostContainer& container, const ir::Exit& exit,
                                     const ConfigOptions& options) {
  HOODY_TRY(checkExit(exit, options));
  std::vector<std::string> addresses;
  for (const std::string& text : exit.wireguard.addresses) {
    auto formatted = formatTunnelAddress(exit, text);
    if (!formatted) return Unexpected<Error>{formatted.error()};
    addresses.push_back(std::move(*formatted));
  }

  WireguardConfig config;
  config.interface = exit.interface;
  config.file_name = exit.interface + ".conf";
  config.key_file = keyFilePath(options.key_directory, exit.interface);

  std::string& text = config.text;
  std::string provider =
      exit.provider.empty() ? "" : fmt::format(", VPN provider `{}`", exit.provider);
  text += fmt::format("# WireGuard exit of {} ({}{}), written by hoodyc; edits are overwritten.\n",
                      containerName(container), exit.origin, provider);
  text += "# The private key stays in the key file on this host, never in this file.\n";
  text += "[Interface]\n";
  text += fmt::format("Address = {}\n", fmt::join(addresses, ", "));
  if (options.route_table == 0) {
    text += "Table = off\n";
  } else {
    text += fmt::format("Table = {}\n", options.route_table);
  }
  text += fmt::format("PostUp = wg set %i private-key {}\n", config.key_file);
  if (options.route_table != 0) {
    auto lines = routingLines(container, exit, options.route_table);
    if (!lines) return Unexpected<Error>{lines.error()};
    text += *lines;
  }
  text += "\n[Peer]\n";
  text += fmt::format("PublicKey = {}\n", exit.wireguard.public_key);
  text += fmt::format("Endpoint = {}\n", formatEndpoint(exit.wireguard));
  text += "AllowedIPs = 0.0.0.0/0, ::/0\n";
  if (options.keepalive_seconds != 0) {
    text += fmt::format("PersistentKeepalive = {}\n", options.keepalive_seconds);
  }
  return config;
}

Result<std::vector<WireguardConfig>> renderConfigs(const ir::HostPolicy& policy,
                                                   const ConfigOptions& options) {
  std::vector<WireguardConfig> configs;
  std::map<std::string, std::string> origin_by_interface;
  for (const ir::HostContainer& container : policy.containers) {
    if (!container.has_network) continue;
    for (const ir::Exit& exit : container.network.exits) {
      if (exit.kind != ir::Exit::Kind::Wireguard) continue;
      auto [it, inserted] = origin_by_interface.emplace(exit.interface, exit.origin);
      if (!inserted) {
        return makeError("duplicate-wireguard-interface",
                         fmt::format("WireGuard exits at {} and {} both use interface `{}`; a "
                                     "container can have one WireGuard exit",
                                     it->second, exit.origin, exit.interface));
      }
      auto config = renderConfig(container, exit, options);
      if (!config) return Unexpected<Error>{config.error()};
      configs.push_back(std::move(*config));
    }
  }
  return configs;
}

}  // namespace hoody::wireguard
