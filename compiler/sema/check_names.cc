// SPDX-License-Identifier: Apache-2.0
// Names: declared names are well-formed and unique in their scope, and every
// reference to a group, provider or profile resolves inside its own realm.
#include <fmt/format.h>

#include <map>

#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

std::string location(const diag::Span& span) {
  return fmt::format("{}:{}", span.file, span.line);
}

// Names are letters, digits, `_` and `-`, starting with a letter, digit or
// `_`, at most 63 characters; they appear in logs, headers and explanations.
bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void checkDeclaredName(Context& ctx, const ast::Word& name, std::string_view kind) {
  if (isValidName(name.text)) return;
  ctx.sink.error("invalid-name", name.span,
                 fmt::format("{} name {} is not a valid name", kind, diag::quote(name.text)),
                 "use letters, digits, `_` and `-` (at most 63 characters), starting with a "
                 "letter, digit or `_`");
}

// Reports every name declared a second time in one scope.
class UniqueNames {
 public:
  UniqueNames(Context& ctx, std::string kind, std::string scope)
      : ctx_(ctx), kind_(std::move(kind)), scope_(std::move(scope)) {}

  void add(const ast::Word& name) {
    auto [it, inserted] = first_.emplace(name.text, name.span);
    if (inserted) return;
    ctx_.sink.error("duplicate-name", name.span,
                    fmt::format("{} {} is already declared {}at {}", kind_, diag::quote(name.text),
                                scope_.empty() ? "" : scope_ + " ", location(it->second)),
                    "rename one of them or merge the two declarations");
  }

 private:
  Context& ctx_;
  std::string kind_;
  std::string scope_;
  std::map<std::string, diag::Span> first_;
};

template <typename Map>
std::vector<std::string> keysOf(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  return keys;
}

void checkGroupReference(Context& ctx, const RealmScope& realm, const ast::GroupEntry& entry) {
  const std::string& name = entry.name.text;
  if (ctx.scope.findSharedGroup(realm, name) != nullptr) return;
  const std::string& realm_name = realm.realm->name.text;

  size_t dot = name.find('.');
  if (dot != std::string::npos) {
    std::string prefix = name.substr(0, dot);
    if (prefix != realm_name && ctx.scope.findRealm(prefix) != nullptr) {
      ctx.sink.error("cross-realm-reference", entry.name.span,
                     fmt::format("group {} belongs to realm `{}`; realm `{}` cannot use it",
                                 diag::quote(name), prefix, realm_name),
                     "realms are isolated: declare the group in realm `" + realm_name + "`");
      return;
    }
    if (prefix != realm_name) {
      ctx.sink.error("unknown-name", entry.name.span,
                     fmt::format("group {} not found: there is no realm `{}`", diag::quote(name),
                                 prefix),
                     "refer to a group of this realm by its plain name");
      return;
    }
  }

  std::string plain = dot == std::string::npos ? name : name.substr(dot + 1);
  std::string other = ctx.scope.realmDeclaring("group", plain, realm);
  if (!other.empty()) {
    ctx.sink.error("cross-realm-reference", entry.name.span,
                   fmt::format("group {} is declared in realm `{}`, not in realm `{}`",
                               diag::quote(plain), other, realm_name),
                   "realms are isolated: declare the group in realm `" + realm_name + "`");
    return;
  }
  std::string help = didYouMean(plain, keysOf(realm.groups));
  if (help.empty()) {
    help = "declare it at realm level (`group " + plain +
           " { ... }`) or give it a body here";
  }
  ctx.sink.error("unknown-name", entry.name.span,
                 fmt::format("group {} is not declared in realm `{}`", diag::quote(plain),
                             realm_name),
                 help);
}

void checkProviderReference(Context& ctx, const RealmScope& realm, const ast::Word& name) {
  if (realm.providers.count(name.text) > 0) return;
  std::string other = ctx.scope.realmDeclaring("provider", name.text, realm);
  if (!other.empty()) {
    ctx.sink.error("cross-realm-reference", name.span,
                   fmt::format("provider {} is declared in realm `{}`, not in realm `{}`",
                               diag::quote(name.text), other, realm.realm->name.text),
                   "realms are isolated: declare the provider in this realm");
    return;
  }
  std::string help = didYouMean(name.text, keysOf(realm.providers));
  if (help.empty()) help = "declare it in the realm: `provider " + name.text + " { wireguard { ... } }`";
  ctx.sink.error("unknown-name", name.span,
                 fmt::format("provider {} is not declared in realm `{}`", diag::quote(name.text),
                             realm.realm->name.text),
                 help);
}

void checkProfileReference(Context& ctx, const RealmScope& realm, const ast::Word& name) {
  if (isBuiltinProfile(name.text) || realm.profiles.count(name.text) > 0) return;
  std::vector<std::string> candidates = {"open", "team", "production"};
  for (const auto& [k, v] : realm.profiles) candidates.push_back(k);
  std::string help = didYouMean(name.text, candidates);
  if (help.empty()) help = "use `open`, `team`, `production` or a profile declared in this realm";
  ctx.sink.error("unknown-name", name.span,
                 fmt::format("profile {} is not declared", diag::quote(name.text)), help);
}

void checkBlockNames(Context& ctx, const RealmScope& realm, const ast::PermissionsBlock& block) {
  UniqueNames groups(ctx, "group", "in this permissions block");
  for (const ast::GroupEntry& entry : block.groups) {
    // A qualified reference names the same group as its plain form.
    ast::Word key = entry.name;
    if (size_t dot = key.text.find('.'); dot != std::string::npos && !entry.body) {
      key.text = key.text.substr(dot + 1);
    }
    groups.add(key);
    if (entry.body) {
      checkDeclaredName(ctx, entry.name, "group");
      if (entry.name.text == "default") {
        ctx.sink.error("invalid-name", entry.name.span,
                       "group name `default` is reserved for the block's default",
                       "choose another name");
      }
    } else {
      checkGroupReference(ctx, realm, entry);
    }
  }
}

void checkProject(Context& ctx, const RealmScope& realm, const ast::Project& project,
                  UniqueNames& aliases) {
  checkDeclaredName(ctx, project.name, "project");
  if (project.profile) checkProfileReference(ctx, realm, *project.profile);
  if (project.permissions) checkBlockNames(ctx, realm, *project.permissions);

  UniqueNames containers(ctx, "container", "in project `" + project.name.text + "`");
  for (const ast::Container& c : project.containers) {
    checkDeclaredName(ctx, c.name, "container");
    containers.add(c.name);
    if (c.permissions) checkBlockNames(ctx, realm, *c.permissions);
    if (c.network) {
      for (const ast::Exit& exit : c.network->exits) {
        if (exit.kind == ast::Exit::Kind::Vpn) checkProviderReference(ctx, realm, exit.provider);
      }
    }
  }
  for (const ast::Alias& a : project.aliases) aliases.add(a.name);

  UniqueNames tests(ctx, "test", "in project `" + project.name.text + "`");
  for (const ast::PolicyTest& t : project.tests) tests.add({t.name.value, t.name.span});
}

}  // namespace

void checkNames(Context& ctx) {
  UniqueNames realms(ctx, "realm", "");
  // Alias names become host names on the node, so they share one scope
  // across every realm of the input.
  UniqueNames aliases(ctx, "alias", "on this node");
  for (const RealmScope& realm : ctx.scope.realms()) {
    const ast::Realm& r = *realm.realm;
    checkDeclaredName(ctx, r.name, "realm");
    realms.add(r.name);

    UniqueNames groups(ctx, "group", "in realm `" + r.name.text + "`");
    for (const ast::SharedGroup& g : r.groups) {
      checkDeclaredName(ctx, g.name, "group");
      groups.add(g.name);
    }
    UniqueNames providers(ctx, "provider", "in realm `" + r.name.text + "`");
    for (const ast::Provider& p : r.providers) {
      checkDeclaredName(ctx, p.name, "provider");
      providers.add(p.name);
    }
    UniqueNames profiles(ctx, "profile", "in realm `" + r.name.text + "`");
    for (const ast::Profile& p : r.profiles) {
      checkDeclaredName(ctx, p.name, "profile");
      if (isBuiltinProfile(p.name.text)) {
        ctx.sink.error("invalid-name", p.name.span,
                       fmt::format("profile name {} is a built-in profile", diag::quote(p.name.text)),
                       "choose another name and use `base " + p.name.text + "` to build on it");
      }
      profiles.add(p.name);
      if (p.base) checkProfileReference(ctx, realm, *p.base);
    }
    UniqueNames projects(ctx, "project", "in realm `" + r.name.text + "`");
    for (const ast::Project& p : r.projects) {
      projects.add(p.name);
      checkProject(ctx, realm, p, aliases);
    }
  }
}

}  // namespace hoody::sema
