// SPDX-License-Identifier: Apache-2.0
// Lowering: a checked syntax tree -> the decision IR.
//
// Inheritance and overrides are resolved here and nowhere else. Every
// project gets one permission block: its own, or an empty default-deny block
// when it declares none. Every container with its own block gets another,
// and each container points at the block that governs it. Realm-level groups
// referenced from a block are copied into it. CIDRs are merged into sorted
// ranges, services and methods become bitsets, JWT keys are inlined and
// bearer digests decoded.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/sema/checker.h"
#include "compiler/sema/scope.h"
#include "runtime/abi/decision_ir.h"

namespace hoody::lower {

/// Lowers the program `scope` indexes, realm by realm in input order.
/// Precondition: the checker reported no errors for it, so every name
/// resolves and every value parses.
ir::Policy lowerProgram(const sema::Scope& scope, const sema::CheckedInputs& inputs);

}  // namespace hoody::lower
