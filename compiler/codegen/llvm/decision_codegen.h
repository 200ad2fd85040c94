// SPDX-License-Identifier: Apache-2.0
// LLVM back end: decision IR -> one LLVM module of native decision functions.
//
// The module follows the C ABI in runtime/jit/decision_abi.h. It holds:
// - `hoody_decide`, the entry point: it finds the container through an
//   open-addressing hash table of (container ID, project ID) keys emitted as
//   constant data, compares the matched 24-byte key in constant time, reads
//   realm, container, block and maintenance from the same table slot, and
//   calls the block's function through a constant table;
// - one function per distinct permission block. Blocks with the same
//   structure (default, group conditions and grants; names and secrets aside)
//   share one function, which receives the realm and block index to name the
//   group when it calls a verifier.
// The generated code follows the reference interpreter's evaluation order
// exactly, including which verifiers it calls and in what order.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "runtime/abi/decision_ir.h"
#include "runtime/abi/result.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace hoody::codegen {

struct CodegenOptions {
  /// Key of the host-lookup hash; drawn from the OS CSPRNG when unset. Set it
  /// only for reproducible output.
  std::optional<std::array<uint64_t, 2>> hash_key;
  /// Runs the light IR passes (mem2reg, simplifycfg).
  bool optimize = true;
};

/// SHA-256 of bundle::encodeIr(policy), recorded in every generated module so
/// a loader can reject bitcode generated from another policy.
std::array<uint8_t, 32> policyDigest(const ir::Policy& policy);

/// Generates and verifies the decision module for `policy` in `context`,
/// targeting the host. Error codes: "invalid-ir" (a block index out of range,
/// unsorted or overlapping address ranges, an unknown credential kind),
/// "duplicate-container-id" (two containers with the same ID pair),
/// "policy-too-large" (realm, container and block indices need more than 64
/// bits together, which takes billions of containers or blocks),
/// "codegen-failed" (the module did not verify or the host target is
/// unavailable).
Result<std::unique_ptr<llvm::Module>> generateDecisionModule(const ir::Policy& policy,
                                                             llvm::LLVMContext& context,
                                                             const CodegenOptions& options = {});

/// Generates the decision module and serializes it to LLVM bitcode. Error
/// codes are those of generateDecisionModule.
Result<std::string> emitBitcode(const ir::Policy& policy, const CodegenOptions& options = {});

/// Initializes the host target for code generation and JIT (once per process).
/// Returns false when LLVM has no target for this host.
bool initializeHostTarget();

}  // namespace hoody::codegen
