// SPDX-License-Identifier: Apache-2.0
// Lowering of the host layers: a checked syntax tree -> the host IR
// (firewall, network exits, DNS and seccomp per container).
#pragma once

#include "compiler/sema/scope.h"
#include "runtime/abi/host_ir.h"

namespace hoody::lower {

/// Lowers every container's firewall, network and seccomp blocks, realm by
/// realm in input order. `exit vpn NAME` is resolved through the realm's
/// provider table. Containers without a seccomp block use profile 0, the
/// default; containers with one get their own profile, shared by containers
/// whose rules are identical. Precondition: the checker reported no errors.
ir::HostPolicy lowerHost(const sema::Scope& scope);

/// The host's WireGuard interface for a container's exit: `hwg` and the
/// first 12 hex digits of the container ID (15 characters, the kernel's
/// limit).
std::string wireguardInterfaceName(const ir::Id96& container);

}  // namespace hoody::lower
