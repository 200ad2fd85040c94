// SPDX-License-Identifier: Apache-2.0
// Runs the compiler front end for a hoodyc subcommand.
#pragma once

#include "compiler/cli/commands.h"
#include "compiler/driver/frontend.h"
#include "runtime/abi/bundle.h"

namespace hoody::cli {

struct FrontEnd {
  bool ran = false;  ///< False when the input could not be read at all.
  driver::FrontEndOutput out;
};

/// Runs the front end over `input`. `require_inventory` makes every container
/// missing from the inventory an error; `require_host_inventory` warns about
/// containers the inventory gives no interface (apply).
FrontEnd runFront(const PolicyInput& input, bool require_inventory,
                  bool require_host_inventory = false);

/// Writes the bundle of a checked policy to `dir`: the decision IR, the
/// decision functions' bitcode and `extra` (the host artifacts). Returns an
/// error message, or an empty string on success. When `stage_times` is
/// given, the wall times of code generation and of writing are appended.
std::string writeCompiledBundle(const PolicyInput& input, const ir::Policy& policy,
                                std::vector<bundle::Artifact> extra, const std::string& dir,
                                std::vector<driver::StageTime>* stage_times = nullptr);

}  // namespace hoody::cli
