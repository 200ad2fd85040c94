// SPDX-License-Identifier: Apache-2.0
// wg-quick configuration files for the WireGuard exits of containers.
//
// The file carries no private key. Its PostUp line loads the key from a file
// on the host (`wg set %i private-key FILE`), so bundles and reviews never see
// a secret. runtime/host/wireguard.h creates that file when it is missing.
//
// Routing: the peer's AllowedIPs are 0.0.0.0/0 and ::/0, so that the tunnel
// accepts every destination. wg-quick's default (`Table = auto`) would then
// send all of the host's traffic into the tunnel, so the file always sets the
// table:
//   - route_table 0 writes `Table = off`: wg-quick adds no routes, and the
//     caller routes the container's traffic into the interface;
//   - route_table N puts the default routes into table N and adds one
//     `ip rule from ADDRESS lookup N` per container address (PostUp; PreDown
//     removes them), so only the container's own traffic enters the tunnel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/host_ir.h"
#include "runtime/abi/result.h"

namespace hoody::wireguard {

/// Persistent keepalive in seconds: often enough to keep NAT mappings of
/// typical home and carrier routers open.
inline constexpr uint16_t kDefaultKeepalive = 25;

/// Priority of the `ip rule` lines: before the main table's rule (32766).
/// runtime/host/wireguard.h uses the same value.
inline constexpr uint32_t kSourceRulePriority = 20000;

struct ConfigOptions {
  std::string key_directory = "/etc/hoody/wireguard";  ///< Holds `<interface>.key`.
  uint32_t route_table = 0;                            ///< 0: `Table = off`, see the file comment.
  uint16_t keepalive_seconds = kDefaultKeepalive;      ///< 0 disables keepalives.
};

struct WireguardConfig {
  std::string interface;  ///< The tunnel interface, e.g. `hwg0f3e2d1c4b5a`.
  std::string file_name;  ///< `<interface>.conf`: wg-quick names the interface after the file.
  std::string key_file;   ///< Private key file the PostUp line reads.
  std::string text;
};

/// Returns the path of an interface's private key file under `key_directory`.
std::string keyFilePath(std::string_view key_directory, std::string_view interface);

/// Renders the wg-quick file of `exit`, a WireGuard exit of `container`.
/// Error codes:
///   - "not-wireguard": another kind of exit;
///   - "invalid-wireguard-exit": an interface name wg-quick rejects, a public
///     key that is not 44 base64 characters, port 0, a tunnel address that is
///     not a CIDR, or a key directory that is not an absolute path of safe
///     characters;
///   - "missing-inventory-addresses": options.route_table is set, but the
///     container has no addresses to route.
Result<WireguardConfig> renderConfig(const ir::HostContainer& container, const ir::Exit& exit,
                                     const ConfigOptions& options = {});

/// Renders the files of every WireGuard exit in `policy`, in policy order.
/// Error codes: those of renderConfig, and "duplicate-wireguard-interface"
/// when two exits use one interface (a container with two WireGuard exits).
Result<std::vector<WireguardConfig>> renderConfigs(const ir::HostPolicy& policy,
                                                   const ConfigOptions& options = {});

}  // namespace hoody::wireguard
