// SPDX-License-Identifier: Apache-2.0
// Human-readable effective permissions of a container, from the decision IR.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/decision_ir.h"

namespace hoody::lower {

/// Describes the permission block that governs `container` of `realm`:
/// where it was declared, the default, and each group's conditions and
/// grants. Returns an empty string when there is no such container.
std::string describeEffectivePermissions(const ir::Policy& policy, std::string_view realm,
                                         std::string_view container);

/// Writes an IP set as the fewest CIDR blocks that cover exactly its ranges.
std::vector<std::string> ipSetToCidrs(const ir::IpSet& set);

}  // namespace hoody::lower
