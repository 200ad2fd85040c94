// SPDX-License-Identifier: Apache-2.0
// Groups and blocks that match everyone or grant nothing.
//
// Empty never means "everyone". A permissions block that is present but has
// no groups and denies by default denies every request, and a group without
// grants adds nothing. Both are legal, so they are warnings that say what the
// policy actually does. A group without conditions is the opposite case: it
// matches every client, which is rarely what the author meant.
#include <fmt/format.h>

#include "compiler/sema/checker.h"

namespace hoody::sema {

void checkGroups(Context& ctx) {
  forEachGroupBody(ctx, [&](const GroupSite& site) {
    const ast::GroupBody& body = *site.body;
    if (!body.hasIp() && !body.hasCredential()) {
      ctx.sink.warning("empty-group", body.span,
                       fmt::format("group `{}` has no conditions, so it matches every client",
                                   *site.name),
                       "add an `ip` or credential condition; to open a service to everyone, "
                       "say so with `default allow SERVICE` or `ip 0.0.0.0/0, ::/0`");
    }
    if (body.grants.empty()) {
      ctx.sink.warning("unreachable-service", body.span,
                       fmt::format("group `{}` grants no service", *site.name),
                       "add `allow SERVICES`, or remove the group");
    }
  });

  forEachBlock(ctx, [&](const BlockSite& site) {
    const ast::PermissionsBlock& block = *site.block;
    if (defaultAllowOf(&block) != ir::kNoServices) return;
    for (const ResolvedGroup& g : ctx.scope.resolveGroups(*site.realm, block)) {
      // An unresolved reference is reported as unknown-name already.
      if (g.body == nullptr || grantedServices(*g.body) != ir::kNoServices) return;
    }
    std::string unreachable = site.container != nullptr
                          ? fmt::format("container `{}`", site.container->name.text)
                          : fmt::format("the containers of project `{}` without their own block",
                                        site.project->name.text);
    std::string help = site.container != nullptr
                           ? "add groups that grant services, or remove the block to inherit the "
                             "project's permissions"
                           : "add groups that grant services, or a `default allow SERVICES`";
    ctx.sink.warning(
        "unreachable-service", block.span,
        fmt::format("this permissions block grants nothing, so nobody can reach {}; an empty "
                    "block means nobody",
                    unreachable),
        help);
  });
}

}  // namespace hoody::sema
