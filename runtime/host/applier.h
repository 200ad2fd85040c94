// SPDX-License-Identifier: Apache-2.0
// The host applier behind `hoodyc apply`: installs a bundle's host artifacts
// (the nftables table, seccomp policy files, WireGuard exits) all or nothing.
//
// Order of an apply:
//   1. Preflight, changing nothing: the kernel checks the ruleset in dry-run
//      mode, every seccomp target's directory must exist, and WireGuard
//      exits need a kernel with WireGuard. Any failure stops here.
//   2. The plan: what changes against the loaded table and installed files.
//      A dry run prints it and stops.
//   3. The table is replaced in one nftables transaction.
//   4. Seccomp files are written (each atomically, by rename).
//   5. WireGuard exits are brought up.
// When step 4 or 5 fails, what was done is undone in reverse: files get
// their previous content back and the previous table is loaded again (or
// the table is deleted when there was none), and the error reports it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/abi/host_ir.h"
#include "runtime/abi/result.h"

namespace hoody::host {

/// A seccomp policy file to install for a container.
struct SeccompTarget {
  std::string container;  ///< `realm/project/name`, for messages.
  std::string profile;    ///< Profile name.
  std::string path;       ///< Absolute path the container runtime reads.
  std::string content;    ///< LXC seccomp policy text.
};

/// A WireGuard exit to bring up.
struct WireguardTarget {
  std::string container;  ///< `realm/project/name`.
  ir::Exit exit;          ///< Kind Wireguard; `interface` names the host link.
};

struct HostArtifacts {
  std::string ruleset;       ///< nft text of table `inet hoody`.
  std::string ruleset_json;  ///< The same table as libnftables JSON.
  std::vector<SeccompTarget> seccomp;
  std::vector<WireguardTarget> wireguard;
};

/// Brings a WireGuard exit up; returns an undo action that takes it down.
/// The applier calls it only after the preflight found WireGuard support.
using WireguardUp = std::function<Result<std::function<void()>>(const WireguardTarget&)>;
/// Returns an error when the kernel cannot create WireGuard interfaces.
using WireguardProbe = std::function<Result<void>()>;

struct ApplyOptions {
  bool dry_run = false;
  WireguardProbe probe_wireguard;  ///< Required when there are WireGuard targets.
  WireguardUp bring_up_wireguard;  ///< Required when there are WireGuard targets.
};

struct ApplyReport {
  std::string plan;  ///< Human-readable plan: table, files, exits.
  bool changed = false;  ///< Something was (or, for a dry run, would be) changed.
};

/// Applies `artifacts` in the network namespace of the calling thread.
/// Error codes:
///   - "preflight-failed": nothing was changed.
///   - "nft-rejected": the transaction failed, so the previous table is untouched.
///   - "apply-failed": a later step failed and everything was rolled back.
///   - "rollback-failed": the rollback failed too. The message lists what is left.
Result<ApplyReport> applyHost(const HostArtifacts& artifacts, const ApplyOptions& options);

}  // namespace hoody::host
