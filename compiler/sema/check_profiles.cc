// SPDX-License-Identifier: Apache-2.0
// Security profiles: custom profile settings, and the rules each level adds.
//
// - open: no extra rules.
// - team (also the default when a project names no profile): a default that
//   allows an operator surface, or a group without conditions granting one,
//   is a warning.
// - production: both of those are errors, and a group that grants an
//   operator surface without an `ip` condition is a warning, because a
//   stolen credential then works from anywhere. A JWT condition without
//   `realm_claim` is a warning, because tokens are then not bound to the
//   realm.
// An `ip` condition that covers every IPv4 or every IPv6 address counts as
// no `ip` condition in these rules, because any client can use that family.
// A project without a permissions block gets a note when some of its
// containers inherit from it, because those containers deny everything.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "compiler/sema/address_check.h"
#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

constexpr ir::ServiceSet kOperatorSurfaces = ir::kAllServices & ~ir::kPublicServices;

void checkCustomProfile(Context& ctx, const RealmScope& realm, const ast::Profile& profile) {
  static const std::vector<std::string> kEncryption = {"required", "optional"};
  static const std::vector<std::string> kSnapshots = {"none", "hourly", "daily", "weekly"};
  auto checkValue = [&](const std::optional<ast::Word>& value, std::string_view setting,
                        const std::vector<std::string>& allowed) {
    if (!value || std::find(allowed.begin(), allowed.end(), value->text) != allowed.end()) return;
    ctx.sink.error("invalid-profile-setting", value->span,
                   fmt::format("{} is not a value of `{}`", diag::quote(value->text), setting),
                   "use " + listNames(allowed));
  };
  checkValue(profile.disk_encryption, "disk_encryption", kEncryption);
  checkValue(profile.snapshots, "snapshots", kSnapshots);

  // Follow the base chain; a profile that reaches itself again is a cycle.
  std::set<std::string> seen = {profile.name.text};
  const ast::Profile* current = &profile;
  while (current->base && !isBuiltinProfile(current->base->text)) {
    auto it = realm.profiles.find(current->base->text);
    if (it == realm.profiles.end()) return;  // Reported as unknown-name.
    if (!seen.insert(it->first).second) {
      ctx.sink.error("profile-cycle", profile.base ? profile.base->span : profile.name.span,
                     fmt::format("the base chain of profile `{}` loops through `{}`",
                                 profile.name.text, it->first),
                     "end the chain at `open`, `team` or `production`");
      return;
    }
    current = it->second;
  }
}

// "every operator surface", "the operator surface `a`" or "the operator
// surfaces `a` and `b`".
std::string surfacesPhrase(ir::ServiceSet surfaces) {
  if (surfaces == kOperatorSurfaces) return "every operator surface";
  std::vector<std::string> names = serviceNamesIn(surfaces);
  return (names.size() == 1 ? "the operator surface " : "the operator surfaces ") +
         listNames(names);
}

// Covered address families by group body. A realm-level group is checked
// once for every block that references it, and its CIDR list can be long.
using CoverageCache = std::unordered_map<const ast::GroupBody*, CoveredFamilies>;

const CoveredFamilies& coveredFamiliesOf(const ast::GroupBody& body, CoverageCache& cache) {
  auto [it, inserted] = cache.try_emplace(&body);
  if (inserted) it->second = coveredFamilies(body.ip);
  return it->second;
}

void checkBlock(Context& ctx, const BlockSite& site, ProfileLevel level, CoverageCache& coverage) {
  std::string profile_name(profileLevelName(level));
  std::string owner = blockOwner(site);

  ir::ServiceSet by_default = defaultAllowOf(site.block) & kOperatorSurfaces;
  if (by_default != ir::kNoServices) {
    const ast::DefaultRule* rule = nullptr;
    for (const ast::DefaultRule& r : site.block->defaults) {
      if (r.allow && (serviceSetOf(r.services) & kOperatorSurfaces || r.services.empty())) rule = &r;
    }
    diag::Span at = rule != nullptr ? rule->span : site.block->span;
    std::string message = fmt::format("the default of {} allows {} to everyone", owner,
                                      surfacesPhrase(by_default));
    std::string help = "use `default deny` for operator surfaces and grant them to groups with "
                       "an ip or credential condition";
    if (level == ProfileLevel::Production) {
      ctx.sink.error("profile-default-allow", at, message + " under profile `production`", help);
    } else {
      ctx.sink.warning("profile-default-allow", at, message, help);
    }
  }

  for (const ResolvedGroup& g : ctx.scope.resolveGroups(*site.realm, *site.block)) {
    if (g.body == nullptr) continue;
    ir::ServiceSet operator_grants = grantedServices(*g.body) & kOperatorSurfaces;
    if (operator_grants == ir::kNoServices) continue;
    std::string services = surfacesPhrase(operator_grants);
    diag::Span at = g.entry->name.span;
    const CoveredFamilies& families = coveredFamiliesOf(*g.body, coverage);
    if (restrictsClientAddresses(*g.body, families)) continue;
    // Without a restricting `ip` condition: none at all, or one that covers
    // a whole address family.
    std::string covered;
    if (g.body->hasIp()) covered = coveredFamiliesPhrase(families);
    if (!g.body->hasCredential()) {
      std::string message =
          covered.empty()
              ? fmt::format("group `{}` has no conditions, so it opens {} of {} to everyone",
                            g.name, services, owner)
              : fmt::format("group `{}` admits {} and has no credential condition, so it "
                            "opens {} of {} to everyone",
                            g.name, covered, services, owner);
      std::string help = covered.empty()
                             ? "add an `ip` or credential condition to the group"
                             : "narrow the `ip` condition to your networks, or add a credential "
                               "condition";
      if (level == ProfileLevel::Production) {
        ctx.sink.error("profile-default-allow", at, message + " under profile `production`", help);
      } else {
        ctx.sink.warning("profile-default-allow", at, message, help);
      }
    } else if (level == ProfileLevel::Production) {
      ctx.sink.warning("profile-unrestricted-operator", at,
                       fmt::format("group `{}` grants {} from {} under profile `production`",
                                   g.name, services, covered.empty() ? "any address" : covered),
                       covered.empty()
                           ? "add an `ip` condition so a leaked credential only works from your "
                             "networks"
                           : "narrow the `ip` condition to your networks, so a leaked "
                             "credential only works from them");
    }
  }
}

// Under `production`, every JWT condition that a block uses must bind its
// tokens to the realm. Each condition is reported once, even when a
// realm-level group is used by several blocks.
void checkRealmClaims(Context& ctx, const BlockSite& site,
                      std::set<const ast::JwtCondition*>& reported) {
  for (const ResolvedGroup& g : ctx.scope.resolveGroups(*site.realm, *site.block)) {
    if (g.body == nullptr) continue;
    for (const ast::JwtCondition& jwt : g.body->jwts) {
      if (jwt.realm_claim || !reported.insert(&jwt).second) continue;
      ctx.sink.warning(
          "jwt-without-realm-claim", jwt.span,
          fmt::format("the jwt condition of group `{}` does not bind tokens to realm `{}` under "
                      "profile `production`",
                      g.name, site.realm->realm->name.text),
          fmt::format("add `realm_claim \"hoody_realm\"` (or the claim your issuer sets), so "
                      "only tokens whose claim equals `{}` are accepted",
                      site.realm->realm->name.text));
    }
  }
}

}  // namespace

void checkProfiles(Context& ctx) {
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Profile& p : realm.realm->profiles) checkCustomProfile(ctx, realm, p);
    for (const ast::Project& project : realm.realm->projects) {
      bool some_inherit = std::any_of(project.containers.begin(), project.containers.end(),
                                      [](const ast::Container& c) { return !c.permissions; });
      if (!project.permissions && some_inherit) {
        ctx.sink.note("absent-permissions", project.name.span,
                      fmt::format("project `{}` has no permissions block, so its containers "
                                  "without their own block deny every request",
                                  project.name.text),
                      "add `permissions { default deny; group ... }` to the project to "
                      "grant access");
      }
    }
  }
  std::set<const ast::JwtCondition*> reported_realm_claims;
  CoverageCache coverage;
  forEachBlock(ctx, [&](const BlockSite& site) {
    ProfileLevel level = ctx.scope.profileLevel(*site.realm, *site.project);
    if (level != ProfileLevel::Open) checkBlock(ctx, site, level, coverage);
    if (level == ProfileLevel::Production) checkRealmClaims(ctx, site, reported_realm_claims);
  });
}

}  // namespace hoody::sema
