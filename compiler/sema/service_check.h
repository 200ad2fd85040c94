// SPDX-License-Identifier: Apache-2.0
// Service-name and path-prefix checks used by several named checks.
#pragma once

#include <string_view>

#include "compiler/ast/ast.h"
#include "compiler/sema/checker.h"

namespace hoody::sema {

/// Reports `unknown-service` (with the closest name) unless `service` is in
/// the closed set, or is `all` and `allow_all` is set. Returns true when
/// the name is known.
bool checkServiceName(Context& ctx, const ast::Word& service, bool allow_all);

/// Reports `invalid-path-prefix` when `path` cannot match a normalized
/// request path, and `non-normalized-path-prefix` (a warning with the form
/// it is matched as) when it is valid but not written in normalized form.
/// `setting` names the setting in messages, e.g. "path prefix". Returns true
/// when the prefix is valid.
bool checkPathPrefix(Context& ctx, const ast::Text& path, std::string_view setting);

}  // namespace hoody::sema
