// SPDX-License-Identifier: Apache-2.0
// Service-name check used by several named checks.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/sema/checker.h"

namespace hoody::sema {

/// Reports `unknown-service` (with the closest name) unless `service` is in
/// the closed set, or is `all` and `allow_all` is set. Returns true when
/// the name is known.
bool checkServiceName(Context& ctx, const ast::Word& service, bool allow_all);

}  // namespace hoody::sema
