// SPDX-License-Identifier: Apache-2.0
// Bundle I/O: the directory `hoodyc compile` writes and `hoody-proxy` loads.
//
// A bundle contains `decision.ir` (the binary, versioned decision IR),
// `manifest.json` (format version, creation time, policy sources and the
// SHA-256 and size of every artifact) and any extra artifacts, such as the
// LLVM bitcode of the decision functions in `decision.bc`. Loading verifies
// every hash it reads and the IR version before anything is used.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"

namespace hoody::bundle {

/// Serializes `policy` to the binary IR format (deterministic bytes).
std::string encodeIr(const ir::Policy& policy);

/// Parses the binary IR. Error codes: "bad-magic", "bad-version", "truncated",
/// "invalid-ir".
Result<ir::Policy> decodeIr(std::string_view bytes);

/// A file written beside `decision.ir` and listed in the manifest.
struct Artifact {
  std::string name;   ///< Plain file name: not empty, no `/`, not `.` or `..`.
  std::string bytes;  ///< File content.
  /// Extra string fields of the artifact's manifest entry, for example the
  /// target triple of bitcode. The keys `sha256` and `size` are reserved.
  std::map<std::string, std::string> fields;
};

struct BundleInfo {
  std::vector<std::string> sources;  ///< Policy files the bundle was compiled from.
  std::string inventory;             ///< Inventory file, if any.
  std::vector<Artifact> artifacts;   ///< Extra artifacts; may be empty.
};

/// Writes a bundle into `dir` (created if missing). Files are written to
/// temporary names and renamed, the manifest last, so a reader never sees a
/// half-written file. Error codes: "io-error", and "invalid-artifact" for an
/// extra artifact whose name is not a plain file name, is used twice or is
/// `decision.ir` or `manifest.json`, or whose fields use a reserved key.
Result<void> writeBundle(const std::string& dir, const ir::Policy& policy, const BundleInfo& info);

/// Loads and verifies a bundle. Error codes: "io-error", "bad-manifest",
/// "hash-mismatch", plus those of decodeIr.
Result<ir::Policy> loadBundle(const std::string& dir);

/// Reads the artifact `name` listed in the manifest of the bundle in `dir`
/// and checks its SHA-256 against the manifest. Error codes:
/// "io-error", "bad-manifest", "missing-artifact" (the manifest does not list
/// `name`), "hash-mismatch".
Result<std::string> loadArtifact(const std::string& dir, std::string_view name);

}  // namespace hoody::bundle
