// SPDX-License-Identifier: Apache-2.0
// The nftables applier: installs, checks, lists and deletes the `inet hoody`
// table through libnftables, in the network namespace of the calling thread.
//
// Every change is one libnftables transaction: the kernel applies all of it
// or none of it, so a rejected ruleset leaves the previous table in place.
// Errors carry libnftables' own message, which names the place in the
// ruleset at fault as `ruleset:<line>:<columns>` (JSON input has no
// locations in libnftables 1.0.6).
// Nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/result.h"

namespace hoody::host {

/// The table the applier owns, in family `inet`. The nftables back end
/// emits rulesets for exactly this table.
inline constexpr std::string_view kNftTable = "hoody";

/// Replaces the table with `ruleset` (nft text or libnftables JSON) in one
/// transaction: the table is created if absent, deleted, and created again
/// from `ruleset`. JSON input must name only table `inet hoody`.
/// Error codes: "nft-unavailable" (no libnftables context),
/// "invalid-ruleset" (JSON that cannot be read or names another table),
/// "nft-rejected" (libnftables or the kernel refused the transaction).
Result<void> replaceTable(std::string_view ruleset);

/// Runs the same transaction as replaceTable in libnftables' dry-run mode:
/// the ruleset is parsed and evaluated, nothing is committed. Same error
/// codes.
Result<void> checkTable(std::string_view ruleset);

/// Deletes the table; succeeds when it is absent. Error codes as for
/// replaceTable.
Result<void> deleteTable();

/// A chain as the applier reads it back: the `digest <hex> <label>` comment
/// that the back end puts on its map element (container chains) or on its
/// last rule (base chains).
struct ChainSummary {
  std::string digest;  ///< Empty when the chain has no digest comment.
  std::string label;
};

struct TableSummary {
  std::map<std::string, ChainSummary> chains;  ///< By chain name.
};

/// Lists the loaded table. Returns nullopt when no `inet hoody` table is
/// loaded. Error codes: "nft-unavailable", "nft-rejected",
/// "invalid-listing" (output that is not the expected JSON).
Result<std::optional<TableSummary>> loadedTable();

/// Returns the loaded table as nft text, which replaceTable accepts, to put
/// it back after a failed apply; nullopt when no table is loaded. Error
/// codes as for loadedTable.
Result<std::optional<std::string>> loadedTableText();

/// Reads the chains and digests of a libnftables JSON ruleset, such as the
/// back end's output. Error code: "invalid-listing".
Result<TableSummary> summarizeRuleset(std::string_view json);

/// Builds a summary from chain names and their `digest <hex> <label>`
/// comments (the back end's Ruleset::digests). Much faster than parsing
/// the JSON of a large ruleset.
TableSummary summarizeDigests(const std::map<std::string, std::string>& comments);

enum class Change : uint8_t { Added, Removed, Changed, Unchanged };
std::string_view changeName(Change change);

struct ContainerChange {
  std::string id;     ///< 24 hex digits, from the chain names.
  std::string label;  ///< `realm/project/name`; may be cut short.
  Change change = Change::Unchanged;
};

/// Changes that applying a ruleset would make, per container.
struct Plan {
  bool table_loaded = false;
  /// The base chains differ from the loaded ones, or no table is loaded.
  bool base_changed = false;
  /// Sorted by change (added, removed, changed, unchanged), then label.
  std::vector<ContainerChange> containers;
  size_t count(Change change) const;
};

/// Compares the loaded table with the one a ruleset would install. A
/// container counts as changed when the digest of either of its chains
/// differs (the digest covers its rules and interface) or is missing.
Plan planChanges(const std::optional<TableSummary>& loaded, const TableSummary& planned);

/// As above, with the planned table read from a libnftables JSON ruleset.
/// Parsing takes seconds for 10 000 containers; summarizeDigests does not.
Result<Plan> planChanges(const std::optional<TableSummary>& loaded, std::string_view ruleset_json);

/// Formats a plan for `hoodyc apply --dry-run`: a summary line, then one
/// line per added, removed or changed container.
std::string formatPlan(const Plan& plan);

}  // namespace hoody::host
