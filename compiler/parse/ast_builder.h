// SPDX-License-Identifier: Apache-2.0
// Conversion of the ANTLR parse tree of a file without syntax errors into the
// syntax tree (compiler/ast).
#pragma once

#include <string>

#include "HoodyParser.h"
#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"

namespace hoody::parse {

/// Builds the syntax tree. Reports `duplicate-setting` for a setting given
/// twice in one block (the first one is kept) and `invalid-escape` for an
/// unknown escape in a string. Call only on a tree without syntax errors:
/// the builder assumes every child the grammar requires is present.
ast::File buildAst(const std::string& path, grammar::HoodyParser::FileContext* tree,
                   diag::DiagnosticSink& sink);

/// Returns the span of one token: `line` is 1-based and `column` counts code
/// points from 1.
diag::Span tokenSpan(const std::string& path, const antlr4::Token* token);

}  // namespace hoody::parse
