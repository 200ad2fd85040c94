// SPDX-License-Identifier: Apache-2.0
// Address and CIDR checks used by several named checks.
#pragma once

#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/sema/checker.h"
#include "runtime/abi/decision_ir.h"

namespace hoody::sema {

/// Checks one CIDR entry (`invalid-cidr`, `cidr-host-bits`,
/// `non-canonical-ipv6`). Host bits set are an error when
/// `host_bits_are_errors` is set and a warning otherwise. Returns true when
/// the entry parses.
bool checkCidrEntry(Context& ctx, const ast::Word& entry, bool host_bits_are_errors);

/// Checks every entry of one list and warns about overlaps
/// (`overlapping-cidr`).
void checkCidrList(Context& ctx, const std::vector<ast::Word>& entries,
                   bool host_bits_are_errors = false);

/// Checks a single address (`invalid-address`, `non-canonical-ipv6`).
/// IPv4-mapped IPv6 forms are accepted only when `allow_mapped` is set.
/// Returns true when valid.
bool checkAddressEntry(Context& ctx, const ast::Word& entry, bool allow_mapped);

/// Formats an IPv6 address as RFC 5952 section 4 recommends: lowercase hex,
/// no leading zeros, and `::` for the longest run of two or more zero groups
/// (the first such run on a tie). With `dotted_ipv4` the last 32 bits are
/// written in dotted decimal, as in `::ffff:192.0.2.1`.
std::string formatIpv6Canonical(const ir::U128& address, bool dotted_ipv4);

/// Address families that the valid entries of `entries` cover completely
/// once merged, for example `0.0.0.0/1, 128.0.0.0/1` covers every IPv4
/// address.
struct CoveredFamilies {
  bool every_ipv4 = false;
  bool every_ipv6 = false;
  bool any() const { return every_ipv4 || every_ipv6; }
};
CoveredFamilies coveredFamilies(const std::vector<ast::Word>& entries);

/// Returns true when the group has an `ip` condition that leaves some
/// clients out. A list that covers every IPv4 or every IPv6 address
/// restricts nothing, because any client can reach the proxy over that
/// family.
bool restrictsClientAddresses(const ast::GroupBody& body);
/// The same, with the coverage of `body.ip` already computed.
bool restrictsClientAddresses(const ast::GroupBody& body, const CoveredFamilies& covered);

/// "every IPv4 address", "every IPv6 address" or "every address".
std::string coveredFamiliesPhrase(const CoveredFamilies& covered);

}  // namespace hoody::sema
