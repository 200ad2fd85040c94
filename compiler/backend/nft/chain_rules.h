// SPDX-License-Identifier: Apache-2.0
// The rules of one container's ingress and egress chains, in the order the
// host IR fixes (see runtime/abi/host_ir.h).
#pragma once

#include <vector>

#include "compiler/backend/nft/rule_model.h"
#include "runtime/abi/host_ir.h"

namespace hoody::nft {

/// Rules for packets to the container. Allowed packets are accepted. The
/// last rule is the default verdict.
std::vector<Rule> ingressRules(const ir::HostContainer& container);

/// Rules for packets from the container, to other hosts or to this host.
/// Allowed packets `return` to the base chain, so that a packet to another
/// container still meets that container's ingress chain. The last rule is
/// the final verdict.
std::vector<Rule> egressRules(const ir::HostContainer& container);

}  // namespace hoody::nft
