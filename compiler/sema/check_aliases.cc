// SPDX-License-Identifier: Apache-2.0
// Aliases: memorable host names routed to one service of one container.
//
// An alias makes a service easy to find, which removes the protection of the
// unguessable container URL. So:
// - an alias to an operator surface is an error unless the container's
//   permissions deny it by default and every group granting it has a
//   credential condition or an `ip` condition that does not cover a whole
//   address family (`operator-alias`);
// - an alias whose container does not exist is an error (`orphan-alias`);
// - generic names are warned about, since they collide and get guessed;
// - a name that reads like a container host label is an error, since the
//   proxy could not tell the two apart (`alias-collision`);
// - a custom domain gets a note: public certificates for it are published
//   in Certificate Transparency logs.
#include <fmt/format.h>

#include <map>
#include <set>

#include "compiler/sema/address_check.h"
#include "compiler/sema/checker.h"
#include "compiler/sema/service_check.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

const std::set<std::string>& genericNames() {
  static const std::set<std::string> kNames = {
      "api",   "app",    "apps",  "prod",    "production", "admin", "test",  "testing",
      "www",   "dev",    "devel", "staging", "stage",      "demo",  "web",   "beta",
      "alpha", "mail",   "db",    "git",     "internal",   "portal", "dashboard", "console",
      "login", "auth",   "backend", "frontend", "service",  "server", "home",  "main",
      "qa",    "uat",    "preview", "sandbox", "docs"};
  return kNames;
}

bool isHostLabel(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool isDomainName(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.find('.') == std::string_view::npos) return false;
  while (!name.empty()) {
    size_t dot = name.find('.');
    if (!isHostLabel(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return true;
}

// Container host labels start with `<24 hex>-<24 hex>-`.
bool looksLikeContainerLabel(std::string_view name) {
  return name.size() > 50 && isValidId(name.substr(0, 24)) && name[24] == '-' &&
         isValidId(name.substr(25, 24)) && name[49] == '-';
}

void checkName(Context& ctx, const ast::Alias& alias) {
  const std::string& name = alias.name.text;
  if (!isHostLabel(name)) {
    ctx.sink.error("invalid-name", alias.name.span,
                   fmt::format("alias name {} is not a host name label", diag::quote(name)),
                   "use lowercase letters, digits and `-` (at most 63 characters), not "
                   "starting or ending with `-`");
    return;
  }
  if (looksLikeContainerLabel(name)) {
    ctx.sink.error("alias-collision", alias.name.span,
                   fmt::format("alias name {} reads like a container host name", diag::quote(name)),
                   "the proxy could not tell it from a container URL; choose a plain name");
    return;
  }
  if (genericNames().count(name) > 0) {
    ctx.sink.warning("generic-alias-name", alias.name.span,
                     fmt::format("alias name {} is generic, so it is easy to guess and likely to "
                                 "collide on a node",
                                 diag::quote(name)),
                     "use a specific name, e.g. one that starts with the project or realm name");
  }
}

// Applies the operator-surface rule to the container's effective permissions.
void checkOperatorSurface(Context& ctx, const RealmScope& realm, const ast::Alias& alias,
                          const ContainerTarget& target, ir::Service service) {
  const ast::PermissionsBlock* block = effectivePermissions(*target.project, *target.container);
  std::string where = fmt::format("`{}` of container `{}`", ir::serviceName(service),
                                  target.container->name.text);
  if (!ir::isOperatorSurface(service)) return;

  if (defaultAllowOf(block) & ir::bit(service)) {
    ctx.sink.error("operator-alias", alias.target.span,
                   fmt::format("alias `{}` exposes the operator surface {}, which its "
                               "permissions allow by default",
                               alias.name.text, where),
                   "deny the service by default and grant it to groups with an ip or "
                   "credential condition, or remove the alias");
    return;
  }
  if (block == nullptr) return;
  bool granted = false;
  for (const ResolvedGroup& g : ctx.scope.resolveGroups(realm, *block)) {
    if (g.body == nullptr || !(grantedServices(*g.body) & ir::bit(service))) continue;
    granted = true;
    if (restrictsClientAddresses(*g.body) || g.body->hasCredential()) continue;
    if (g.body->hasIp()) {
      ctx.sink.error("operator-alias", alias.target.span,
                     fmt::format("alias `{}` exposes the operator surface {}, which group `{}` "
                                 "grants to {} without a credential condition",
                                 alias.name.text, where, g.name,
                                 coveredFamiliesPhrase(coveredFamilies(g.body->ip))),
                     "narrow the `ip` condition of group `" + g.name +
                         "` to your networks or add a credential condition, or remove the alias");
    } else {
      ctx.sink.error("operator-alias", alias.target.span,
                     fmt::format("alias `{}` exposes the operator surface {}, which group `{}` "
                                 "grants without an ip or credential condition",
                                 alias.name.text, where, g.name),
                     "add an `ip` or credential condition to group `" + g.name +
                         "`, or remove the alias");
    }
  }
  if (!granted) {
    ctx.sink.warning("unreachable-service", alias.target.span,
                     fmt::format("alias `{}` routes to {}, which no group grants", alias.name.text,
                                 where),
                     "grant the service to a group, or remove the alias");
  }
}

void checkTarget(Context& ctx, const RealmScope& realm, const ast::Project& project,
                 const ast::Alias& alias) {
  ContainerTarget target = ctx.scope.findTarget(realm, project, alias.target.text);
  switch (target.status) {
    case ContainerTarget::Status::Malformed:
      ctx.sink.error("invalid-alias-target", alias.target.span,
                     fmt::format("alias target {} is not of the form `container.service`",
                                 diag::quote(alias.target.text)),
                     "write `CONTAINER.SERVICE`, e.g. `public-api.http`, or "
                     "`PROJECT.CONTAINER.SERVICE`");
      return;
    case ContainerTarget::Status::OtherRealm:
      ctx.sink.error("cross-realm-reference", alias.target.span,
                     fmt::format("alias `{}` targets container `{}` of realm `{}`; an alias can "
                                 "only route to its own realm",
                                 alias.name.text, target.container_name, target.other_realm),
                     "declare the alias in realm `" + target.other_realm + "`");
      return;
    case ContainerTarget::Status::Ambiguous:
      ctx.sink.error("ambiguous-name", alias.target.span,
                     fmt::format("container `{}` exists in several projects of realm `{}`",
                                 target.container_name, realm.realm->name.text),
                     "qualify the target with its project: `PROJECT." + target.container_name +
                         "." + target.service_name + "`");
      return;
    case ContainerTarget::Status::NotFound: {
      std::vector<std::string> names;
      for (const auto& p : realm.realm->projects) {
        for (const auto& c : p.containers) names.push_back(c.name.text);
      }
      std::string help = didYouMean(target.container_name, names);
      if (help.empty()) help = "declare the container, or remove the alias";
      ctx.sink.error("orphan-alias", alias.target.span,
                     fmt::format("alias `{}` targets container `{}`, which does not exist",
                                 alias.name.text, target.container_name),
                     help);
      return;
    }
    case ContainerTarget::Status::Found:
      break;
  }
  ast::Word service_word{target.service_name, alias.target.span};
  if (!checkServiceName(ctx, service_word, false)) return;
  checkOperatorSurface(ctx, realm, alias, target, *ir::serviceFromName(target.service_name));
}

void checkSettings(Context& ctx, const ast::Alias& alias,
                   std::map<std::string, const ast::Alias*>& domains) {
  if (alias.target_path) checkPathPrefix(ctx, *alias.target_path, "target path");
  if (alias.allow_path_override && !alias.target_path) {
    ctx.sink.warning("invalid-alias-setting", alias.allow_path_override->span,
                     "`allow_path_override` has no effect without `target_path`",
                     "add a `target_path`, or remove the setting");
  }
  if (!alias.domain) return;
  const std::string& domain = alias.domain->value;
  if (!isDomainName(domain)) {
    ctx.sink.error("invalid-name", alias.domain->span,
                   fmt::format("{} is not a domain name", diag::quote(domain)),
                   "write a lowercase fully qualified name such as `billing.acme.example`");
    return;
  }
  auto [it, inserted] = domains.emplace(domain, &alias);
  if (!inserted) {
    ctx.sink.error("alias-collision", alias.domain->span,
                   fmt::format("domain {} is already used by alias `{}`", diag::quote(domain),
                               it->second->name.text),
                   "give each alias its own domain");
    return;
  }
  ctx.sink.note("ct-log-visibility", alias.domain->span,
                fmt::format("custom domain {} will appear in Certificate Transparency logs once "
                            "a public certificate is issued for it",
                            diag::quote(domain)),
                "anyone can read those logs; use a name that reveals nothing you want to keep "
                "private");
}

}  // namespace

void checkAliases(Context& ctx) {
  std::map<std::string, const ast::Alias*> domains;
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      for (const ast::Alias& alias : project.aliases) {
        checkName(ctx, alias);
        checkTarget(ctx, realm, project, alias);
        checkSettings(ctx, alias, domains);
      }
    }
  }
}

}  // namespace hoody::sema
