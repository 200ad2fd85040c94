// SPDX-License-Identifier: Apache-2.0
// The checker: every named check over a parsed program, and the order they
// run in.
//
// Each check lives in its own file (check_<name>.cc), reads the syntax tree
// through the shared Scope and reports to the sink. Checks never stop at the
// first problem and never depend on each other's results, so their order
// only affects the order of diagnostics at one location.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/sema/scope.h"

namespace hoody::sema {

/// Files the checker read on the way, for lowering to reuse.
struct CheckedInputs {
  /// Resolved JWT key file path -> contents (PEM or JWKS), for keys that
  /// were read and accepted.
  std::map<std::string, std::string> key_files;
};

struct Context {
  const ast::Program& program;
  const Scope& scope;
  diag::DiagnosticSink& sink;
  CheckedInputs& inputs;
};

/// Runs every check in order.
void runChecks(Context& ctx);

// The named checks, in the order runChecks runs them.
void checkNames(Context& ctx);        // duplicate-name, unknown-name, cross-realm-reference, invalid-name
void checkIds(Context& ctx);          // invalid-id, low-entropy-id, duplicate-id
void checkAddresses(Context& ctx);    // invalid-cidr, cidr-host-bits, non-canonical-ipv6, ...
void checkServices(Context& ctx);     // unknown-service, invalid-path-prefix, ...
void checkCredentials(Context& ctx);  // plaintext-password, weak-password-hash, ...
void checkJwt(Context& ctx);          // jwt-none-algorithm, invalid-jwt-key, shared-jwt-issuer, ...
void checkGroups(Context& ctx);       // empty-group, unreachable-service
void checkNetwork(Context& ctx);      // firewall and network settings, ports, dns servers
void checkSeccomp(Context& ctx);      // seccomp actions, syscalls and errno names
void checkStates(Context& ctx);       // invalid-state
void checkProfiles(Context& ctx);     // profile rules and custom profiles
void checkAliases(Context& ctx);      // alias rules
void checkTests(Context& ctx);        // test requests

// --- Walkers shared by the checks ------------------------------------------

/// Location of a group body: a realm-level shared group, or a definition in
/// the permissions block of a project or container.
struct GroupSite {
  const RealmScope* realm = nullptr;
  const ast::Project* project = nullptr;      ///< Null for a shared group.
  const ast::Container* container = nullptr;  ///< Null unless in a container's block.
  const std::string* name = nullptr;
  const ast::GroupBody* body = nullptr;
};

/// Calls `fn` for every group body that is written out: shared groups and
/// definitions in blocks. References are skipped, because their body is
/// visited where it is written.
void forEachGroupBody(const Context& ctx, const std::function<void(const GroupSite&)>& fn);

struct BlockSite {
  const RealmScope* realm = nullptr;
  const ast::Project* project = nullptr;
  const ast::Container* container = nullptr;  ///< Null for the project's block.
  const ast::PermissionsBlock* block = nullptr;
};

/// Calls `fn` for every declared permissions block.
void forEachBlock(const Context& ctx, const std::function<void(const BlockSite&)>& fn);

struct ContainerSite {
  const RealmScope* realm = nullptr;
  const ast::Project* project = nullptr;
  const ast::Container* container = nullptr;
};

void forEachContainer(const Context& ctx, const std::function<void(const ContainerSite&)>& fn);

/// Describes where a block was declared: "project `p`" or "container `c`".
std::string blockOwner(const BlockSite& site);

/// Joins names as "`a`, `b` and `c`".
std::string listNames(const std::vector<std::string>& names);

/// Names of the services in a set, in IR order.
std::vector<std::string> serviceNamesIn(ir::ServiceSet set);

}  // namespace hoody::sema
