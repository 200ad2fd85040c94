// SPDX-License-Identifier: Apache-2.0
// All-or-nothing installation of the host artifacts.
#include "runtime/host/applier.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "runtime/host/nftables.h"
#include "runtime/host/seccomp_install.h"

namespace hoody::host {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<void> preflight(const HostArtifacts& artifacts, const ApplyOptions& options) {
  if (auto checked = checkTable(artifacts.ruleset); !checked) {
    return makeError("preflight-failed",
                     "the kernel rejects the ruleset, nothing was changed: " +
                         checked.error().message);
  }
  for (const SeccompTarget& t : artifacts.seccomp) {
    fs::path parent = fs::path(t.path).parent_path();
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) {
      return makeError("preflight-failed",
                       fmt::format("the seccomp file {} of container {} is in a directory that "
                                   "does not exist, nothing was changed; create {} or fix "
                                   "`seccomp_file` in the inventory",
                                   t.path, t.container, parent.string()));
    }
  }
  if (!artifacts.wireguard.empty()) {
    if (!options.probe_wireguard || !options.bring_up_wireguard) {
      return makeError("preflight-failed", "WireGuard exits need the WireGuard installer");
    }
    if (auto probed = options.probe_wireguard(); !probed) {
      return makeError("preflight-failed",
                       fmt::format("container {} has a WireGuard exit, but {}; nothing was "
                                   "changed",
                                   artifacts.wireguard.front().container, probed.error().message));
    }
  }
  return {};
}

// Describes what the apply changes; sets `changed`.
Result<std::string> describePlan(const HostArtifacts& artifacts, bool& changed) {
  auto loaded = loadedTable();
  if (!loaded) return makeError("preflight-failed", loaded.error().message);
  auto plan = planChanges(*loaded, artifacts.ruleset_json);
  if (!plan) return makeError("preflight-failed", plan.error().message);
  std::string out = formatPlan(*plan);
  changed = plan->base_changed || plan->count(Change::Added) > 0 ||
            plan->count(Change::Removed) > 0 || plan->count(Change::Changed) > 0;
  for (const SeccompTarget& t : artifacts.seccomp) {
    auto current = readWhole(t.path);
    std::string_view state = "new";
    if (current) state = *current == t.content ? "unchanged" : "changed";
    if (state != "unchanged") changed = true;
    out += fmt::format("seccomp {} ({}): {} {}\n", t.container, t.profile, state, t.path);
  }
  for (const WireguardTarget& w : artifacts.wireguard) {
    changed = true;
    out += fmt::format("wireguard {}: bring up {}\n", w.container, w.exit.interface);
  }
  return out;
}

// Undoes the steps done so far, newest first. Returns what could not be
// undone.
std::vector<std::string> rollBack(std::vector<InstalledFile>& files,
                                  std::vector<std::function<void()>>& links,
                                  const std::optional<std::string>& previous_table) {
  std::vector<std::string> left;
  for (auto it = links.rbegin(); it != links.rend(); ++it) (*it)();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (auto restored = it->restore(); !restored) left.push_back(restored.error().message);
  }
  Result<void> table = previous_table ? replaceTable(*previous_table) : deleteTable();
  if (!table) left.push_back("the previous nftables table: " + table.error().message);
  return left;
}

}  // namespace

Result<ApplyReport> applyHost(const HostArtifacts& artifacts, const ApplyOptions& options) {
  HOODY_TRY(preflight(artifacts, options));
  ApplyReport report;
  auto plan = describePlan(artifacts, report.changed);
  if (!plan) return Unexpected<Error>{plan.error()};
  report.plan = std::move(*plan);
  if (options.dry_run) return report;

  auto previous = loadedTableText();
  if (!previous) return makeError("preflight-failed", previous.error().message);
  if (auto replaced = replaceTable(artifacts.ruleset); !replaced) {
    return makeError("nft-rejected", replaced.error().message +
                                         "; the previous table is still loaded");
  }

  std::vector<InstalledFile> files;
  std::vector<std::function<void()>> links;
  auto fail = [&](const std::string& what) -> Result<ApplyReport> {
    std::vector<std::string> left = rollBack(files, links, *previous);
    if (left.empty()) {
      return makeError("apply-failed", what + "; every change was rolled back");
    }
    std::string message = what + "; the rollback failed too:";
    for (const std::string& l : left) message += "\n  - " + l;
    return makeError("rollback-failed", message);
  };
  for (const SeccompTarget& t : artifacts.seccomp) {
    auto installed = installFile(t.path, t.content);
    if (!installed) {
      return fail(fmt::format("cannot install the seccomp file of container {}: {}", t.container,
                              installed.error().message));
    }
    files.push_back(std::move(*installed));
  }
  for (const WireguardTarget& w : artifacts.wireguard) {
    auto undo = options.bring_up_wireguard(w);
    if (!undo) {
      return fail(fmt::format("cannot bring up the WireGuard exit {} of container {}: {}",
                              w.exit.interface, w.container, undo.error().message));
    }
    links.push_back(std::move(*undo));
  }
  return report;
}

}  // namespace hoody::host
