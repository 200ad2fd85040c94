// SPDX-License-Identifier: Apache-2.0
// Extraction of the `test` blocks of a checked program as test cases.
#pragma once

#include <vector>

#include "compiler/driver/frontend.h"
#include "compiler/sema/scope.h"

namespace hoody::driver {

/// Returns one test case per `request` line, in input order. Precondition:
/// the checker reported no errors.
std::vector<PolicyTestCase> collectTestCases(const sema::Scope& scope);

}  // namespace hoody::driver
