// SPDX-License-Identifier: Apache-2.0
// Name index and shared resolution rules.
#include "compiler/sema/scope.h"

#include <set>

namespace hoody::sema {
namespace {

template <typename T>
void indexFirst(std::map<std::string, const T*, std::less<>>& map, const T& item) {
  map.emplace(item.name.text, &item);
}

std::vector<std::string_view> splitDots(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t dot = text.find('.');
    parts.push_back(text.substr(0, dot));
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return parts;
}

}  // namespace

std::string_view profileLevelName(ProfileLevel level) {
  switch (level) {
    case ProfileLevel::Open:
      return "open";
    case ProfileLevel::Team:
      return "team";
    case ProfileLevel::Production:
      return "production";
  }
  return "team";
}

bool isBuiltinProfile(std::string_view name) {
  return name == "open" || name == "team" || name == "production";
}

Scope::Scope(const ast::Program& program) {
  for (const ast::File& file : program.files) {
    for (const ast::Realm& realm : file.realms) {
      RealmScope scope;
      scope.realm = &realm;
      scope.file = &file;
      for (const auto& g : realm.groups) indexFirst(scope.groups, g);
      for (const auto& p : realm.providers) indexFirst(scope.providers, p);
      for (const auto& p : realm.profiles) indexFirst(scope.profiles, p);
      for (const auto& p : realm.projects) indexFirst(scope.projects, p);
      realm_index_[&realm] = realms_.size();
      first_realm_.emplace(realm.name.text, realms_.size());
      realms_.push_back(std::move(scope));
    }
  }
}

const RealmScope* Scope::findRealm(std::string_view name) const {
  auto it = first_realm_.find(name);
  return it == first_realm_.end() ? nullptr : &realms_[it->second];
}

const RealmScope& Scope::scopeOf(const ast::Realm& realm) const {
  return realms_[realm_index_.at(&realm)];
}

const ast::SharedGroup* Scope::findSharedGroup(const RealmScope& realm,
                                               std::string_view name) const {
  size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    if (name.substr(0, dot) != realm.realm->name.text) return nullptr;
    name.remove_prefix(dot + 1);
  }
  auto it = realm.groups.find(name);
  return it == realm.groups.end() ? nullptr : it->second;
}

std::string Scope::realmDeclaring(std::string_view kind, std::string_view name,
                                  const RealmScope& except) const {
  for (const RealmScope& other : realms_) {
    if (other.realm->name.text == except.realm->name.text) continue;
    bool found = kind == "provider" ? other.providers.count(name) > 0 : other.groups.count(name) > 0;
    if (found) return other.realm->name.text;
  }
  return {};
}

std::vector<ResolvedGroup> Scope::resolveGroups(const RealmScope& realm,
                                                const ast::PermissionsBlock& block) const {
  std::vector<ResolvedGroup> out;
  for (const ast::GroupEntry& entry : block.groups) {
    ResolvedGroup g;
    g.entry = &entry;
    g.name = entry.name.text;
    if (entry.body) {
      g.body = &*entry.body;
    } else if (const ast::SharedGroup* shared = findSharedGroup(realm, entry.name.text)) {
      g.body = &shared->body;
      g.name = shared->name.text;
    }
    out.push_back(std::move(g));
  }
  return out;
}

ContainerTarget Scope::findTarget(const RealmScope& realm, const ast::Project& from,
                                  std::string_view target) const {
  ContainerTarget result;
  std::vector<std::string_view> parts = splitDots(target);
  if (parts.size() < 2 || parts.size() > 3) {
    result.status = ContainerTarget::Status::Malformed;
    return result;
  }
  for (std::string_view part : parts) {
    if (part.empty()) {
      result.status = ContainerTarget::Status::Malformed;
      return result;
    }
  }
  result.container_name = std::string(parts[parts.size() - 2]);
  result.service_name = std::string(parts.back());

  // Projects to search: one named project, or the whole realm. A two-part
  // name looks in `from` first.
  std::vector<const ast::Project*> projects;
  if (parts.size() == 3) {
    std::string_view scope = parts[0];
    if (scope == realm.realm->name.text) {
      for (const auto& p : realm.realm->projects) projects.push_back(&p);
    } else if (auto it = realm.projects.find(scope); it != realm.projects.end()) {
      projects.push_back(it->second);
    } else if (findRealm(scope) != nullptr) {
      result.status = ContainerTarget::Status::OtherRealm;
      result.other_realm = std::string(scope);
      return result;
    } else {
      return result;
    }
  } else {
    for (const auto& c : from.containers) {
      if (c.name.text == result.container_name) {
        result.status = ContainerTarget::Status::Found;
        result.project = &from;
        result.container = &c;
        return result;
      }
    }
    for (const auto& p : realm.realm->projects) projects.push_back(&p);
  }

  for (const ast::Project* project : projects) {
    for (const auto& c : project->containers) {
      if (c.name.text != result.container_name) continue;
      if (result.container != nullptr && result.project != project) {
        result.status = ContainerTarget::Status::Ambiguous;
        return result;
      }
      if (result.container == nullptr) {
        result.project = project;
        result.container = &c;
      }
    }
  }
  if (result.container != nullptr) {
    result.status = ContainerTarget::Status::Found;
    return result;
  }

  // Not in this realm: report another realm that has a container by that name.
  for (const RealmScope& other : realms_) {
    if (other.realm->name.text == realm.realm->name.text) continue;
    for (const auto& p : other.realm->projects) {
      for (const auto& c : p.containers) {
        if (c.name.text == result.container_name) {
          result.status = ContainerTarget::Status::OtherRealm;
          result.other_realm = other.realm->name.text;
          return result;
        }
      }
    }
  }
  result.status = ContainerTarget::Status::NotFound;
  return result;
}

ProfileLevel Scope::profileLevel(const RealmScope& realm, std::string_view profile_name) const {
  std::set<std::string, std::less<>> seen;
  std::string_view name = profile_name;
  while (true) {
    if (name == "open") return ProfileLevel::Open;
    if (name == "team") return ProfileLevel::Team;
    if (name == "production") return ProfileLevel::Production;
    auto it = realm.profiles.find(name);
    if (it == realm.profiles.end() || !it->second->base || !seen.insert(std::string(name)).second) {
      return ProfileLevel::Team;
    }
    name = it->second->base->text;
  }
}

ProfileLevel Scope::profileLevel(const RealmScope& realm, const ast::Project& project) const {
  if (!project.profile) return ProfileLevel::Team;
  return profileLevel(realm, project.profile->text);
}

const ast::PermissionsBlock* effectivePermissions(const ast::Project& project,
                                                  const ast::Container& container) {
  if (container.permissions) return &*container.permissions;
  if (project.permissions) return &*project.permissions;
  return nullptr;
}

ir::ServiceSet serviceSetOf(const std::vector<ast::Word>& services) {
  ir::ServiceSet set = ir::kNoServices;
  for (const ast::Word& w : services) {
    if (w.text == "all") {
      set |= ir::kAllServices;
    } else if (auto s = ir::serviceFromName(w.text)) {
      set |= ir::bit(*s);
    }
  }
  return set;
}

ir::ServiceSet defaultAllowOf(const ast::PermissionsBlock* block) {
  if (block == nullptr) return ir::kNoServices;
  ir::ServiceSet allowed = ir::kNoServices;
  for (const ast::DefaultRule& rule : block->defaults) {
    if (rule.services.empty()) allowed = rule.allow ? ir::kAllServices : ir::kNoServices;
  }
  for (const ast::DefaultRule& rule : block->defaults) {
    if (rule.services.empty()) continue;
    ir::ServiceSet named = serviceSetOf(rule.services);
    allowed = rule.allow ? (allowed | named) : (allowed & ~named);
  }
  return allowed;
}

ir::ServiceSet grantedServices(const ast::GroupBody& body) {
  ir::ServiceSet set = ir::kNoServices;
  for (const ast::Grant& g : body.grants) set |= serviceSetOf(g.services);
  return set;
}

}  // namespace hoody::sema
