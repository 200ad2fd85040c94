// SPDX-License-Identifier: Apache-2.0
// Runs the compiler front end for a hoodyc subcommand.
#pragma once

#include "compiler/cli/commands.h"
#include "compiler/driver/frontend.h"

namespace hoody::cli {

struct FrontEnd {
  bool ran = false;  ///< False when the input could not be read at all.
  driver::FrontEndOutput out;
};

/// Runs the front end over `input`. `require_inventory` makes every container
/// missing from the inventory an error.
FrontEnd runFront(const PolicyInput& input, bool require_inventory);

}  // namespace hoody::cli
