// SPDX-License-Identifier: Apache-2.0
// Container states: `active` (the default) or `maintenance`, in which the
// proxy responds with 503 to every request for the container.
#include <fmt/format.h>

#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"

namespace hoody::sema {

void checkStates(Context& ctx) {
  static const std::vector<std::string> kStates = {"active", "maintenance"};
  forEachContainer(ctx, [&](const ContainerSite& site) {
    const auto& state = site.container->state;
    if (!state || state->text == "active" || state->text == "maintenance") return;
    std::string help = didYouMean(state->text, kStates);
    if (!help.empty()) help += " ";
    help += "a container is `active` (the default) or in `maintenance`";
    ctx.sink.error("invalid-state", state->span,
                   fmt::format("{} is not a container state", diag::quote(state->text)), help);
  });
}

}  // namespace hoody::sema
