// SPDX-License-Identifier: Apache-2.0
// Strict parsing of IP addresses and CIDR blocks, shared by the checker, the
// interpreter, the proxy and hoodyc.
//
// Only canonical spellings are accepted, so the compiler, the runtime matcher
// and emitted firewall rules always agree on which host a string names:
// IPv4 is four decimal octets without leading zeros (no hex, octal, short
// forms or trailing dot); prefixes are plain decimal digits in range.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"

struct sockaddr;

namespace hoody::net {

/// Parses one address. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4.
/// Error codes: "invalid-address".
Result<ir::IpAddress> parseAddress(std::string_view text);

struct Cidr {
  ir::IpAddress network;  ///< Host bits cleared.
  int prefix = 0;         ///< 0..32 for IPv4, 0..128 for IPv6.
  bool host_bits_set = false;  ///< The text had host bits set; `network` is normalized.
};

/// Parses `addr` or `addr/prefix`; a bare address is a /32 or /128.
/// Error codes: "invalid-address", "invalid-prefix", "mapped-address" (an
/// IPv4-mapped IPv6 form; the IPv4 form must be written instead).
Result<Cidr> parseCidr(std::string_view text);

std::string formatAddress(const ir::IpAddress& address);
std::string formatCidr(const Cidr& cidr);

/// Converts a socket address; IPv4-mapped IPv6 peers become IPv4.
ir::IpAddress fromSockaddr(const sockaddr* address);

/// Adds `cidr` to `set` keeping ranges sorted and merged. Returns true when the
/// block overlapped or touched ranges already present (it was merged).
bool addToSet(ir::IpSet& set, const Cidr& cidr);

/// Returns true when `set` contains `address`.
bool setContains(const ir::IpSet& set, const ir::IpAddress& address);

}  // namespace hoody::net
