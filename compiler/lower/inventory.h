// SPDX-License-Identifier: Apache-2.0
// The inventory: where containers run, written by the platform as JSON and
// joined with the policy at compile time.
//
//     { "node": "node-us", "domain": "example.net",
//       "containers": { "<container-id>": { "upstream": "127.0.0.1",
//         "services": { "http": 18080, "files": { "1": 18082, "2": 18083 } },
//         "interface": "veth-web", "addresses": ["2001:db8::10"],
//         "seccomp_file": "/var/lib/lxc/web/seccomp" } } }
//
// A service maps to a port (instance 1) or to an object from instance
// numbers to ports. `interface` (the host side of the container's link),
// `addresses` (the container's own addresses) and `seccomp_file` (where its
// runtime reads the LXC seccomp policy) are for the host applier and may be
// left out when the host layers are not applied. Problems are diagnostics located in the inventory file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"
#include "runtime/abi/decision_ir.h"
#include "runtime/abi/host_ir.h"

namespace hoody::lower {

struct InventoryContainer {
  ir::Id96 id{};
  ir::Upstream upstream;  ///< Ports sorted by service, then instance.
  diag::Span span;        ///< The container's key in the inventory file.
  std::string interface;                ///< Empty when not given.
  std::vector<ir::IpAddress> addresses;
  std::string seccomp_file;             ///< Absolute path; empty when not given.
};

struct Inventory {
  std::string path;
  std::string node;
  std::string domain;
  std::vector<InventoryContainer> containers;  ///< Sorted by ID; no ID twice.
};

/// Hashes a container ID for unordered containers.
struct IdHash {
  size_t operator()(const ir::Id96& id) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
  }
};

/// Declaration spans of a program's containers by ID, for diagnostics about
/// the inventory. The index is built on the first lookup, so a join that
/// reports nothing does not pay for it. The program must outlive this.
class ContainerDeclarations {
 public:
  explicit ContainerDeclarations(const ast::Program& program) : program_(program) {}

  /// The span of the name of the first container declared with `id`, or
  /// null when none is.
  const diag::Span* find(const ir::Id96& id) const;

 private:
  const ast::Program& program_;
  mutable std::optional<std::unordered_map<ir::Id96, diag::Span, IdHash>> spans_;
};

/// Parses and validates an inventory. Reports `invalid-inventory` (JSON
/// syntax, shape, node and domain names), `invalid-id`, `unknown-service`,
/// `invalid-port` and `invalid-address`. Returns nullopt when the file is
/// not usable at all (bad JSON or wrong top-level shape); otherwise returns
/// the entries that are valid.
std::optional<Inventory> parseInventory(const std::string& path, std::string_view text,
                                        diag::DiagnosticSink& sink);

/// Joins `inventory` into `policy`: sets node and domain and each
/// container's upstream. Inventory IDs that no policy container has get an
/// `unknown-container` warning. When `require` is set, every policy
/// container must be in the inventory (`missing-inventory-entry`, reported
/// at the declaration in `declarations`).
void joinInventory(const Inventory& inventory, ir::Policy& policy,
                   const ContainerDeclarations& declarations, bool require,
                   diag::DiagnosticSink& sink);

/// Joins `inventory` into `host`: each container's interface, addresses and
/// seccomp file, and the node. With `report_missing`, containers the
/// inventory does not list or lists without an interface get a
/// `missing-inventory-entry` warning: the host applier leaves them out.
void joinHostInventory(const Inventory& inventory, ir::HostPolicy& host,
                       const ContainerDeclarations& declarations, bool report_missing,
                       diag::DiagnosticSink& sink);

}  // namespace hoody::lower
