// SPDX-License-Identifier: Apache-2.0
// Policy parser: policy text -> syntax tree, with syntax errors as diagnostics.
//
// This is the only place that touches the ANTLR runtime. The runtime throws
// C++ exceptions; every one is caught here and becomes a diagnostic, so no
// exception leaves this module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"

namespace hoody::parse {

/// Parses one policy file. `path` names the file in diagnostics.
///
/// Returns the tree when the file is free of syntax errors (the tree may
/// still carry problems the parser reports with other codes, such as
/// `duplicate-setting` or `invalid-escape`). Returns nullopt after reporting
/// at least one error: invalid UTF-8 (`invalid-encoding`), a lexical or
/// grammar error (`syntax-error`), or an internal parser failure.
std::optional<ast::File> parseFile(const std::string& path, std::string_view text,
                                   diag::DiagnosticSink& sink);

}  // namespace hoody::parse
