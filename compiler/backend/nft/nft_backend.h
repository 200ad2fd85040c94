// SPDX-License-Identifier: Apache-2.0
// nftables back end: the host IR -> one `inet hoody` table, as nft text and
// as libnftables JSON.
//
// Shape of the table:
//   - The base chains `forward` and `input` (priority filter, policy
//     accept) accept established and related packets and drop invalid ones
//     (for `input`, the egress chains drop them). They then dispatch through
//     the verdict maps `egress` (keyed by the input interface) and `ingress`
//     (keyed by the output interface) to one chain per container and
//     direction, `out_<id>` and `in_<id>`.
//   - The per-packet cost is one map lookup per direction, whatever the
//     number of containers.
//   - Traffic from a container to the host itself counts as egress.
//   - An egress chain ends an allowed packet with `return`, not `accept`, so
//     that traffic between two containers on the same host also passes the
//     receiving container's ingress chain.
//   - Each chain has a digest, in a comment `digest <16 hex> <label>`: a
//     container's chains on their map elements (the digest also covers the
//     interface), the base chains on their last rule. The applier compares
//     them with the loaded table to report what changes. Chain comments
//     would be the obvious place, but libnftables 1.0.6 drops them in JSON
//     input and output. Map elements also list in a fraction of a second,
//     while listing 100 000 rules takes over a minute.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/host_ir.h"

namespace hoody::nft {

/// The table hoody owns, in family `inet`.
inline constexpr std::string_view kTableName = "hoody";

/// A container's chains in the emitted table.
struct ContainerChains {
  std::string id;         ///< 24 hex digits.
  std::string label;      ///< `realm/project/name`.
  std::string interface;  ///< Host-side interface.
  std::string ingress_chain;
  std::string egress_chain;
};

/// A container the table leaves out, so its interface is not filtered.
struct LeftOut {
  std::string label;  ///< `realm/project/name`.
  std::string reason;
};

struct Ruleset {
  std::string text;  ///< nft syntax, loadable with `nft -f`.
  std::string json;  ///< libnftables JSON, equivalent to `text`.
  size_t chains = 0;
  size_t rules = 0;
  std::vector<ContainerChains> containers;  ///< In policy order.
  std::vector<LeftOut> left_out;
  /// Chain name -> its `digest <hex> <label>` comment, for comparing with a
  /// loaded table without parsing `json`.
  std::map<std::string, std::string> digests;
};

/// Emits the table for `host`. Same input, same bytes.
///
/// Containers are left out (listed in `left_out`) when their interface is
/// empty, cannot be written in an nft string (contains `"`, `\` or `*`, or
/// is longer than 15 bytes), or is already used by an earlier container.
Ruleset emitRuleset(const ir::HostPolicy& host);

/// Returns the 24 hex digits of `id`.
std::string idHex(const ir::Id96& id);

}  // namespace hoody::nft
