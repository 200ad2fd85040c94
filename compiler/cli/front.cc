// SPDX-License-Identifier: Apache-2.0
// Front-end runner shared by the hoodyc subcommands.
#include "compiler/cli/front.h"

namespace hoody::cli {

FrontEnd runFront(const PolicyInput& input, bool require_inventory, bool require_host_inventory) {
  FrontEnd f;
  driver::FrontEndOptions options;
  options.files = input.files;
  options.inventory_path = input.inventory;
  options.require_inventory = require_inventory;
  options.require_host_inventory = require_host_inventory;
  f.out = driver::runFrontEnd(options);
  f.ran = true;
  return f;
}

}  // namespace hoody::cli
