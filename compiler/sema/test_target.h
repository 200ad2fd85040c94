// SPDX-License-Identifier: Apache-2.0
// Resolution of the target of a `request` line in a test block.
#pragma once

#include <string>
#include <string_view>

#include "compiler/sema/scope.h"

namespace hoody::sema {

struct TestTarget {
  /// Set for `<container-id>-<project-id>.service`, which names a host by
  /// IDs and may match no container (to test the 404 outcome).
  bool raw_ids = false;
  ir::Id96 container_id{};
  ir::Id96 project_id{};
  std::string service_name;
  ContainerTarget container;  ///< The named container, unless raw_ids.
};

TestTarget resolveTestTarget(const Scope& scope, const RealmScope& realm,
                             const ast::Project& project, std::string_view text);

}  // namespace hoody::sema
