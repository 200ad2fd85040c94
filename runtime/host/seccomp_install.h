// SPDX-License-Identifier: Apache-2.0
// Installs the LXC seccomp policies of containers on the host, replacing each
// file atomically and keeping its previous content for rollback.
//
// The container runtime reads a policy when a container starts, so a new
// file takes effect at the container's next start.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/host_ir.h"
#include "runtime/abi/result.h"

namespace hoody::host {

/// A file the applier replaced, with its previous content.
struct InstalledFile {
  std::string path;
  std::optional<std::string> previous;  ///< Absent: the file did not exist.
  mode_t previous_mode = 0644;

  /// Writes the previous content back atomically, with its mode, or removes
  /// the file when there was none. Error codes as installFile.
  Result<void> restore() const;
};

/// Writes `content` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. The file
/// gets `mode`, and keeps its owner when it existed. Error codes:
/// "missing-directory" (the parent directory does not exist), "not-a-file"
/// (`path` is a directory, a symbolic link or another non-regular file) and
/// "io-error".
Result<InstalledFile> installFile(const std::string& path, std::string_view content,
                                  mode_t mode = 0644);

/// Restores `files` in reverse order, so that the oldest content wins when a
/// path appears twice. Restores every file it can and returns the first
/// error.
Result<void> restoreAll(std::span<const InstalledFile> files);

/// The planned change to one container's seccomp file.
struct PlannedFile {
  enum class Change { Create, Replace, Unchanged };
  std::string container;  ///< `realm/project/name`.
  std::string path;
  Change change = Change::Create;
};

/// Compares each container's LXC policy (`lxc_policies[profile index]`) with
/// the file named by its `seccomp_file`; containers without one are skipped.
/// Changes nothing. Error codes: "missing-profile" (an index without a
/// policy), "conflicting-seccomp-file" (two containers with different
/// profiles name the same file) and those of installFile, except that an
/// unreadable file is "io-error".
Result<std::vector<PlannedFile>> planSeccompFiles(const ir::HostPolicy& policy,
                                                  std::span<const std::string> lxc_policies);

/// Writes the files planSeccompFiles reports as created or replaced, and
/// returns them for rollback. When one write fails, restores the files
/// already written and returns the error.
Result<std::vector<InstalledFile>> installSeccompFiles(const ir::HostPolicy& policy,
                                                       std::span<const std::string> lxc_policies);

}  // namespace hoody::host
