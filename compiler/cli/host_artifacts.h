// SPDX-License-Identifier: Apache-2.0
// The host layers of a bundle: building them from the host IR for
// `hoodyc compile`, and reading them back for `hoodyc apply --bundle`.
//
// Artifacts: `firewall.nft` and `firewall.json` (the `inet hoody` table),
// `seccomp-<profile>.bpf` and `seccomp-<profile>.lxc` per profile,
// `wireguard-<interface>.conf` per WireGuard exit, and `host.json`, which
// lists which container gets which file and where.
#pragma once

#include <string>
#include <vector>

#include "runtime/abi/bundle.h"
#include "runtime/abi/host_ir.h"
#include "runtime/abi/result.h"
#include "runtime/host/applier.h"

namespace hoody::cli {

struct HostBuild {
  host::HostArtifacts artifacts;
  std::vector<bundle::Artifact> files;  ///< Bundle files, host.json last.
  std::vector<std::string> notes;       ///< Containers left out of the table, and why.
  size_t containers = 0;                ///< Containers in the table.
  size_t profiles = 0;
};

/// Builds every host artifact of `host`. Error codes: those of
/// seccomp::buildFilter ("unknown-syscall" names the rule's file and line).
Result<HostBuild> buildHost(const ir::HostPolicy& host);

/// Reads the host artifacts of the bundle in `dir`, each checked against the
/// manifest. Error codes: those of bundle::loadArtifact, and "bad-host-plan"
/// when host.json is not what compile writes.
Result<host::HostArtifacts> loadHost(const std::string& dir);

}  // namespace hoody::cli
