// SPDX-License-Identifier: Apache-2.0
// Address and CIDR checks used by several named checks.
#pragma once

#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/sema/checker.h"

namespace hoody::sema {

/// Checks one CIDR entry (`invalid-cidr`, `cidr-host-bits`). Returns true
/// when the entry parses.
bool checkCidrEntry(Context& ctx, const ast::Word& entry);

/// Checks every entry of one list and warns about overlaps
/// (`overlapping-cidr`).
void checkCidrList(Context& ctx, const std::vector<ast::Word>& entries);

/// Checks a single address (`invalid-address`). IPv4-mapped IPv6 forms are
/// accepted only when `allow_mapped` is set. Returns true when valid.
bool checkAddressEntry(Context& ctx, const ast::Word& entry, bool allow_mapped);

}  // namespace hoody::sema
