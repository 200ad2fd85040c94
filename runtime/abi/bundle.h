// SPDX-License-Identifier: Apache-2.0
// Bundle I/O: the directory `hoodyc compile` writes and `hoody-proxy` loads.
//
// A bundle holds `decision.ir` (the binary, versioned decision IR) and
// `manifest.json` (format version, creation time, policy sources and the
// SHA-256 of every artifact). Loading verifies every hash and the IR version
// before anything is used.
#pragma once

#include <string>
#include <vector>

#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"

namespace hoody::bundle {

/// Serializes `policy` to the binary IR format (deterministic bytes).
std::string encodeIr(const ir::Policy& policy);

/// Parses the binary IR. Error codes: "bad-magic", "bad-version", "truncated",
/// "invalid-ir".
Result<ir::Policy> decodeIr(std::string_view bytes);

struct BundleInfo {
  std::vector<std::string> sources;  ///< Policy files the bundle was compiled from.
  std::string inventory;             ///< Inventory file, if any.
};

/// Writes a bundle into `dir` (created if missing). Files are written to
/// temporary names and renamed, so a reader never sees a half-written bundle.
Result<void> writeBundle(const std::string& dir, const ir::Policy& policy, const BundleInfo& info);

/// Loads and verifies a bundle. Error codes: "io-error", "bad-manifest",
/// "hash-mismatch", plus those of decodeIr.
Result<ir::Policy> loadBundle(const std::string& dir);

}  // namespace hoody::bundle
