// SPDX-License-Identifier: Apache-2.0
// WireGuard tunnels for container exits, set up through rtnetlink and the
// kernel's WireGuard generic netlink interface (no `wg` or `wg-quick` needed).
//
// The applier calls probeWireguardSupport() before it changes anything, so a
// kernel without WireGuard fails the apply with a clear error and the host
// keeps its previous state.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/host_ir.h"
#include "runtime/abi/result.h"

namespace hoody::host {

/// Checks that this kernel can create WireGuard interfaces. Looks for
/// /sys/module/wireguard first. Otherwise it creates and deletes a WireGuard
/// link inside a network namespace of its own. The namespace disappears with
/// the probe, so nothing is left on the host, although the kernel may load
/// the wireguard module. Error codes: "wireguard-unsupported" (the message starts with
/// "this kernel has no WireGuard support"), "permission-denied" (no
/// CAP_SYS_ADMIN for the namespace) and "netlink-error".
Result<void> probeWireguardSupport();

/// Returns the base64 X25519 public key of a base64 private key.
/// Error code: "invalid-key" (not 32 bytes of base64).
Result<std::string> publicKeyFromPrivate(std::string_view private_key_base64);

/// Reads the private key in `path` (base64, as `wg genkey` writes it), or
/// creates the file with a new random X25519 key and mode 0600 when it does
/// not exist, creating missing directories with mode 0700. Returns the
/// public key. Error codes: "insecure-key-file" (group or others can access
/// an existing file), "invalid-key" (it contains no valid key), "not-a-file"
/// and "io-error".
Result<std::string> ensurePrivateKey(const std::string& path);

/// Priority of the source rules: before the main table's rule (32766).
/// The wg-quick files of compiler/backend/wireguard use the same value.
inline constexpr uint32_t kSourceRulePriority = 20000;

struct TunnelOptions {
  std::string key_file;                ///< Private key file; created when missing.
  uint16_t keepalive_seconds = 25;     ///< 0 disables keepalives.
  uint32_t route_table = 0;            ///< 0: no routes or rules are added.
  std::vector<ir::IpAddress> sources;  ///< Container addresses routed via route_table.
};

/// Creates the exit's interface (or reuses an existing WireGuard interface
/// of that name), sets its key, peer and tunnel addresses and brings it up.
/// With a route table, also adds default routes through the interface to
/// that table and one rule per source address. Checks the exit and probes
/// the kernel before changing anything; when a later step fails, deletes an
/// interface it created. Error codes: "not-wireguard",
/// "invalid-wireguard-exit", "interface-in-use" (a non-WireGuard link has the
/// name), those of probeWireguardSupport and ensurePrivateKey, and
/// "netlink-error".
Result<void> bringUp(const ir::Exit& exit, const TunnelOptions& options);

/// Adds `addresses` (tunnel addresses as `address/prefix`) to an existing
/// interface and brings it up; bringUp's last steps but one. Error codes:
/// "invalid-address" and "netlink-error".
Result<void> setTunnelAddresses(std::string_view interface, std::span<const std::string> addresses);

/// With options.route_table set, adds IPv4 and IPv6 default routes through
/// `interface` to that table and `from SOURCE lookup TABLE` rules for
/// options.sources; bringUp's last step. Does nothing for table 0. Error
/// code: "netlink-error".
Result<void> routeSources(std::string_view interface, const TunnelOptions& options);

/// Removes the rules bringUp added for `options` and deletes the interface.
/// A missing interface or rule is not an error.
Result<void> tearDown(std::string_view interface, const TunnelOptions& options);

/// Encodes the WG_CMD_SET_DEVICE request bringUp sends: the private key,
/// the exit's peer replacing all peers, AllowedIPs 0.0.0.0/0 and ::/0.
/// Exposed for tests of the message layout.
Result<std::string> encodeSetDevice(uint16_t family_id, uint32_t sequence, const ir::Exit& exit,
                                    const std::array<uint8_t, 32>& private_key,
                                    uint16_t keepalive_seconds);

}  // namespace hoody::host
