// SPDX-License-Identifier: Apache-2.0
// Name index of a parsed program and the resolution rules every check and
// lowering share: realm-level group references, container targets of aliases
// and tests, effective permissions and security profiles.
//
// Realms are separate universes: a lookup never resolves to another realm.
// When a name is missing in its realm but exists in another one, the lookup
// reports that realm, so the checker can report `cross-realm-reference`
// instead of a plain `unknown-name`.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast/ast.h"
#include "runtime/abi/decision_ir.h"

namespace hoody::sema {

/// Strictness of a security profile. Custom profiles resolve to their base.
enum class ProfileLevel { Open, Team, Production };

std::string_view profileLevelName(ProfileLevel level);

/// The names declared in one realm. When a name is declared twice the first
/// declaration is indexed (the checker reports the second).
struct RealmScope {
  const ast::Realm* realm = nullptr;
  const ast::File* file = nullptr;
  std::map<std::string, const ast::SharedGroup*, std::less<>> groups;
  std::map<std::string, const ast::Provider*, std::less<>> providers;
  std::map<std::string, const ast::Profile*, std::less<>> profiles;
  std::map<std::string, const ast::Project*, std::less<>> projects;
};

/// A group as a permissions block uses it: defined in the block or resolved
/// from a realm-level reference. `body` is null for an unresolved reference.
struct ResolvedGroup {
  std::string name;
  const ast::GroupEntry* entry = nullptr;
  const ast::GroupBody* body = nullptr;
};

struct ContainerTarget {
  enum class Status {
    Found,
    NotFound,
    Ambiguous,   ///< The name exists in several projects of the realm.
    OtherRealm,  ///< Not in this realm, but declared in `other_realm`.
    Malformed,   ///< Not of the form `[scope.]container.service`.
  };
  Status status = Status::NotFound;
  const ast::Project* project = nullptr;
  const ast::Container* container = nullptr;
  std::string container_name;  ///< The container part as written.
  std::string service_name;    ///< The service part as written.
  std::string other_realm;
};

class Scope {
 public:
  explicit Scope(const ast::Program& program);

  /// One entry per realm declaration, in input order (duplicates included).
  const std::vector<RealmScope>& realms() const { return realms_; }

  /// The first declaration of realm `name`, or null.
  const RealmScope* findRealm(std::string_view name) const;

  /// The scope of a realm declaration.
  const RealmScope& scopeOf(const ast::Realm& realm) const;

  /// Resolves a realm-level group reference (`name` or `realm.name`).
  const ast::SharedGroup* findSharedGroup(const RealmScope& realm, std::string_view name) const;

  /// Returns the name of another realm that declares a shared group (or,
  /// with `kind` "provider", a provider) called `name`, or an empty string.
  std::string realmDeclaring(std::string_view kind, std::string_view name,
                             const RealmScope& except) const;

  /// The groups of a permissions block, in declaration order.
  std::vector<ResolvedGroup> resolveGroups(const RealmScope& realm,
                                           const ast::PermissionsBlock& block) const;

  /// Resolves `container.service`, `project.container.service` or
  /// `realm.container.service` as written in an alias or test of `from`.
  /// A container of `from` wins over same-named containers of other projects.
  ContainerTarget findTarget(const RealmScope& realm, const ast::Project& from,
                             std::string_view target) const;

  /// The profile level of a project: its named profile, following custom
  /// profiles to their base. No profile means `team`; a custom profile
  /// without a base, or one in a cycle, also counts as `team`.
  ProfileLevel profileLevel(const RealmScope& realm, const ast::Project& project) const;
  ProfileLevel profileLevel(const RealmScope& realm, std::string_view profile_name) const;

 private:
  std::vector<RealmScope> realms_;
  std::map<std::string, size_t, std::less<>> first_realm_;
  std::map<const ast::Realm*, size_t> realm_index_;
};

/// The permissions block that governs `container`: its own, or its
/// project's, or null when neither declares one (default deny, no groups).
const ast::PermissionsBlock* effectivePermissions(const ast::Project& project,
                                                  const ast::Container& container);

/// The services a list names; `all` names every service and unknown names
/// are skipped (the checker reports them).
ir::ServiceSet serviceSetOf(const std::vector<ast::Word>& services);

/// The services a block allows without any group. The global default
/// (`default allow|deny` without services, deny when absent) applies first,
/// then every per-service default, regardless of order.
ir::ServiceSet defaultAllowOf(const ast::PermissionsBlock* block);

/// The services every grant of a group names.
ir::ServiceSet grantedServices(const ast::GroupBody& body);

/// Built-in profile names: open, team, production.
bool isBuiltinProfile(std::string_view name);

}  // namespace hoody::sema
