// SPDX-License-Identifier: Apache-2.0
// Check order and the walkers the checks share.
#include "compiler/sema/checker.h"

namespace hoody::sema {

void runChecks(Context& ctx) {
  checkNames(ctx);
  checkIds(ctx);
  checkAddresses(ctx);
  checkServices(ctx);
  checkCredentials(ctx);
  checkJwt(ctx);
  checkGroups(ctx);
  checkNetwork(ctx);
  checkSeccomp(ctx);
  checkStates(ctx);
  checkProfiles(ctx);
  checkAliases(ctx);
  checkTests(ctx);
}

void forEachGroupBody(const Context& ctx, const std::function<void(const GroupSite&)>& fn) {
  auto visitBlock = [&](const RealmScope& realm, const ast::Project& project,
                        const ast::Container* container, const ast::PermissionsBlock& block) {
    for (const ast::GroupEntry& entry : block.groups) {
      if (entry.body) fn({&realm, &project, container, &entry.name.text, &*entry.body});
    }
  };
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::SharedGroup& g : realm.realm->groups) {
      fn({&realm, nullptr, nullptr, &g.name.text, &g.body});
    }
    for (const ast::Project& project : realm.realm->projects) {
      if (project.permissions) visitBlock(realm, project, nullptr, *project.permissions);
      for (const ast::Container& c : project.containers) {
        if (c.permissions) visitBlock(realm, project, &c, *c.permissions);
      }
    }
  }
}

void forEachBlock(const Context& ctx, const std::function<void(const BlockSite&)>& fn) {
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      if (project.permissions) fn({&realm, &project, nullptr, &*project.permissions});
      for (const ast::Container& c : project.containers) {
        if (c.permissions) fn({&realm, &project, &c, &*c.permissions});
      }
    }
  }
}

void forEachContainer(const Context& ctx, const std::function<void(const ContainerSite&)>& fn) {
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      for (const ast::Container& c : project.containers) fn({&realm, &project, &c});
    }
  }
}

std::string blockOwner(const BlockSite& site) {
  if (site.container != nullptr) return "container `" + site.container->name.text + "`";
  return "project `" + site.project->name.text + "`";
}

std::string listNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += "`" + names[i] + "`";
  }
  return out;
}

std::vector<std::string> serviceNamesIn(ir::ServiceSet set) {
  std::vector<std::string> names;
  for (int i = 0; i < ir::kServiceCount; ++i) {
    auto s = static_cast<ir::Service>(i);
    if (set & ir::bit(s)) names.emplace_back(ir::serviceName(s));
  }
  return names;
}

}  // namespace hoody::sema
