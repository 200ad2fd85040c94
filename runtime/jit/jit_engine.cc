// SPDX-License-Identifier: Apache-2.0
// JIT decision engine: compiles decision modules with LLJIT and calls them.
#include "runtime/jit/jit_engine.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/Mangling.h>
#include <llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <new>

#include "runtime/jit/huge_page_mapper.h"
#include "runtime/jit/runtime_helpers.h"

namespace hoody::jit {
namespace {

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Unexpected<Error> jitFailed(llvm::Error error) {
  return makeError("jit-failed", llvm::toString(std::move(error)));
}

llvm::orc::SymbolMap helperSymbols(llvm::orc::MangleAndInterner& mangle) {
  const auto flags = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  llvm::orc::SymbolMap symbols;
  symbols[mangle(kPathHasPrefixSymbol)] =
      llvm::JITEvaluatedSymbol::fromPointer(&hoody_path_has_prefix, flags);
  symbols[mangle(kVerifyPasswordSymbol)] =
      llvm::JITEvaluatedSymbol::fromPointer(&hoody_verify_password, flags);
  symbols[mangle(kVerifyBearerSymbol)] =
      llvm::JITEvaluatedSymbol::fromPointer(&hoody_verify_bearer, flags);
  symbols[mangle(kVerifyJwtSymbol)] =
      llvm::JITEvaluatedSymbol::fromPointer(&hoody_verify_jwt, flags);
  return symbols;
}

struct Compiled {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  DecideFunction decide = nullptr;
};

// Compiles `module` at codegen level Less. Measured with callgrind on a random
// policy of 2 realms and 10-group blocks: level None compiles about 2.5 times
// faster but runs about 25% more instructions per decision (430 against 345,
// the C++ wrapper included). Default took about 15% longer to compile than
// Less in wall-clock runs on the same policies, with decision times within
// the measurement noise.
Result<Compiled> compile(std::unique_ptr<llvm::LLVMContext> context,
                         std::unique_ptr<llvm::Module> module) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) return jitFailed(builder.takeError());
  builder->setCodeGenOptLevel(llvm::CodeGenOpt::Less);
  auto jit =
      llvm::orc::LLJITBuilder()
          .setJITTargetMachineBuilder(std::move(*builder))
          .setObjectLinkingLayerCreator([](llvm::orc::ExecutionSession& session, const llvm::Triple&)
                                            -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
            return std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(session, [] {
              return std::make_unique<llvm::SectionMemoryManager>(&HugePageMapper::instance());
            });
          })
          .create();
  if (!jit) return jitFailed(jit.takeError());

  llvm::orc::MangleAndInterner mangle((*jit)->getExecutionSession(), (*jit)->getDataLayout());
  auto& dylib = (*jit)->getMainJITDylib();
  if (auto error = dylib.define(llvm::orc::absoluteSymbols(helperSymbols(mangle)))) {
    return jitFailed(std::move(error));
  }
  llvm::orc::ThreadSafeModule safe_module(std::move(module), std::move(context));
  if (auto error = (*jit)->addIRModule(std::move(safe_module))) return jitFailed(std::move(error));
  // The lookup compiles and links the whole module.
  auto address = (*jit)->lookup(kDecideSymbol);
  if (!address) return jitFailed(address.takeError());
  Compiled compiled;
  compiled.decide = address->toPtr<DecideFunction>();
  compiled.jit = std::move(*jit);
  return compiled;
}

// Checks the metadata globals codegen writes before trusting a parsed module.
Result<void> checkModule(const llvm::Module& module, const ir::Policy& policy) {
  auto* version = module.getGlobalVariable(kAbiVersionSymbol);
  auto* version_value =
      version && version->hasInitializer()
          ? llvm::dyn_cast<llvm::ConstantInt>(version->getInitializer())
          : nullptr;
  if (!version_value) {
    return makeError("invalid-bitcode", "the bitcode has no decision ABI version");
  }
  if (version_value->getZExtValue() != kDecisionAbiVersion) {
    return makeError("abi-mismatch", "the bitcode uses decision ABI version " +
                                         std::to_string(version_value->getZExtValue()) +
                                         ", this runtime needs " +
                                         std::to_string(kDecisionAbiVersion) +
                                         "; compile the bundle again");
  }
  llvm::Triple module_triple(module.getTargetTriple());
  llvm::Triple host_triple(llvm::sys::getProcessTriple());
  if (module_triple.getArch() != host_triple.getArch() ||
      module_triple.getOS() != host_triple.getOS()) {
    return makeError("abi-mismatch", "the bitcode targets " + module_triple.str() +
                                         ", this host is " + host_triple.str());
  }

  auto* digest = module.getGlobalVariable(kPolicyDigestSymbol);
  auto* digest_value =
      digest && digest->hasInitializer()
          ? llvm::dyn_cast<llvm::ConstantDataArray>(digest->getInitializer())
          : nullptr;
  auto expected = codegen::policyDigest(policy);
  if (!digest_value || digest_value->getRawDataValues().size() != expected.size()) {
    return makeError("invalid-bitcode", "the bitcode has no policy digest");
  }
  if (std::memcmp(digest_value->getRawDataValues().data(), expected.data(), expected.size()) !=
      0) {
    return makeError("policy-mismatch",
                     "the bitcode was generated from another policy than the decision IR");
  }
  auto* entry = module.getFunction(kDecideSymbol);
  if (!entry || entry->isDeclaration() || entry->arg_size() != 2) {
    return makeError("invalid-bitcode", "the bitcode has no decision entry point");
  }
  return {};
}

DecisionInput makeInput(const policy::RequestFacts& facts) {
  DecisionInput input{};
  std::memcpy(input.ids, facts.host.container.data(), 12);
  std::memcpy(input.ids + 12, facts.host.project.data(), 12);
  input.service = static_cast<uint32_t>(facts.host.service);
  input.method = static_cast<uint32_t>(facts.method);
  input.path = facts.path.data();
  input.path_len = facts.path.size();
  input.client_is_v4 = facts.client.is_v4 ? 1 : 0;
  input.client_v4 = facts.client.v4;
  input.client_v6_hi = facts.client.v6.hi;
  input.client_v6_lo = facts.client.v6.lo;
  if (const policy::Credentials* c = facts.credentials) {
    input.credential_kind = static_cast<uint32_t>(c->kind);
    input.user = c->user.data();
    input.user_len = c->user.size();
    input.password = c->password.data();
    input.password_len = c->password.size();
    input.token = c->token.data();
    input.token_len = c->token.size();
  }
  input.now = facts.now;
  return input;
}

// Writes the same reasons as the interpreter, so explanations do not depend
// on the engine.
std::string reasonFor(const policy::Decision& d, const ir::Policy& policy,
                      const policy::RequestFacts& facts) {
  if (d.outcome == policy::Outcome::NotFound) return "no container has this ID pair";
  const ir::Realm& realm = policy.realms[d.realm];
  const ir::Container& container = realm.containers[d.container];
  if (d.outcome == policy::Outcome::Maintenance) {
    return "container `" + container.name + "` is in maintenance";
  }
  const ir::PermissionBlock& block = realm.blocks[container.block];
  std::string service(ir::serviceName(facts.host.service));
  switch (d.outcome) {
    case policy::Outcome::Allow:
      if (d.group < 0) return "the default of " + block.origin + " allows `" + service + "`";
      return "group `" + block.groups[d.group].name + "` of " + block.origin + " grants `" +
             service + "`";
    case policy::Outcome::Unauthorized:
      return std::string("a group of ") + block.origin + " grants `" + service +
             "` with valid credentials, and none were presented or they did not verify";
    default:
      return "no group of " + block.origin + " grants `" + service + "` " +
             std::string(ir::methodName(facts.method)) + " " + std::string(facts.path) +
             " to this client";
  }
}

}  // namespace

JitEngine::JitEngine(std::shared_ptr<const ir::Policy> policy,
                     std::unique_ptr<llvm::orc::LLJIT> jit, DecideFunction decide, JitStats stats)
    : policy_(std::move(policy)), jit_(std::move(jit)), decide_(decide), stats_(stats) {
  for (const auto& realm : policy_->realms) {
    std::vector<uint8_t>& counts = group_counts_.emplace_back();
    counts.reserve(realm.containers.size());
    for (const auto& container : realm.containers) {
      // A block index outside the realm allows no group at all.
      size_t groups =
          container.block < realm.blocks.size() ? realm.blocks[container.block].groups.size() : 0;
      counts.push_back(static_cast<uint8_t>(std::min<size_t>(groups, kManyGroups)));
    }
  }
}

// Checks that the indices the generated code returned name existing realm,
// container and group entries, so reasonFor and callers can index with them.
bool JitEngine::outputFits(const DecisionOutput& out) const {
  if (out.outcome > static_cast<uint32_t>(policy::Outcome::Forbidden)) return false;
  if (static_cast<policy::Outcome>(out.outcome) == policy::Outcome::NotFound) return true;
  if (out.realm < 0 || static_cast<size_t>(out.realm) >= group_counts_.size()) return false;
  const std::vector<uint8_t>& counts = group_counts_[out.realm];
  if (out.container < 0 || static_cast<size_t>(out.container) >= counts.size()) return false;
  if (out.group < 0) return out.group == -1;
  uint8_t count = counts[out.container];
  if (count < kManyGroups) return out.group < count;
  const ir::Realm& realm = policy_->realms[out.realm];
  return static_cast<size_t>(out.group) < realm.blocks[realm.containers[out.container].block].groups.size();
}

JitEngine::~JitEngine() = default;

Result<std::shared_ptr<JitEngine>> JitEngine::fromModule(std::shared_ptr<const ir::Policy> policy,
                                                         std::unique_ptr<llvm::LLVMContext> context,
                                                         std::unique_ptr<llvm::Module> module,
                                                         JitStats stats) {
  auto start = Clock::now();
  auto compiled = compile(std::move(context), std::move(module));
  if (!compiled) return Unexpected<Error>{compiled.error()};
  stats.jit_ms = millisecondsSince(start);
  return std::shared_ptr<JitEngine>(
      new JitEngine(std::move(policy), std::move(compiled->jit), compiled->decide, stats));
}

Result<std::shared_ptr<JitEngine>> JitEngine::create(std::shared_ptr<const ir::Policy> policy,
                                                     const codegen::CodegenOptions& options) {
  if (!policy) return makeError("invalid-ir", "no decision IR was given to compile");
  try {
    JitStats stats;
    auto start = Clock::now();
    auto context = std::make_unique<llvm::LLVMContext>();
    auto module = codegen::generateDecisionModule(*policy, *context, options);
    if (!module) return Unexpected<Error>{module.error()};
    stats.codegen_ms = millisecondsSince(start);
    return fromModule(std::move(policy), std::move(context), std::move(*module), stats);
  } catch (const std::bad_alloc&) {
    return makeError("jit-failed", "out of memory while compiling the decision functions");
  }
}

Result<std::shared_ptr<JitEngine>> JitEngine::createFromBitcode(
    std::string_view bitcode, std::shared_ptr<const ir::Policy> policy) {
  if (!policy) return makeError("invalid-ir", "no decision IR was given for the bitcode");
  try {
    if (!codegen::initializeHostTarget()) {
      return makeError("jit-failed", "LLVM has no code generator for this host");
    }
    JitStats stats;
    auto start = Clock::now();
    auto context = std::make_unique<llvm::LLVMContext>();
    llvm::MemoryBufferRef buffer(llvm::StringRef(bitcode.data(), bitcode.size()), "decision.bc");
    auto module = llvm::parseBitcodeFile(buffer, *context);
    if (!module) {
      return makeError("invalid-bitcode", "cannot read the decision bitcode: " +
                                              llvm::toString(module.takeError()));
    }
    HOODY_TRY(checkModule(**module, *policy));
    std::string problems;
    llvm::raw_string_ostream stream(problems);
    if (llvm::verifyModule(**module, &stream)) {
      stream.flush();
      return makeError("invalid-bitcode", "the decision bitcode is invalid: " + problems);
    }
    stats.codegen_ms = millisecondsSince(start);
    return fromModule(std::move(policy), std::move(context), std::move(*module), stats);
  } catch (const std::bad_alloc&) {
    return makeError("jit-failed", "out of memory while compiling the decision functions");
  }
}

policy::Decision JitEngine::decide(const policy::RequestFacts& facts, policy::Verifier& verifier,
                                   bool with_reason) const {
  DecisionInput input = makeInput(facts);
  VerifierContext context;
  context.policy = policy_.get();
  context.verifier = &verifier;
  input.verifier_context = &context;
  DecisionOutput out{};
  uint32_t status = decide_(&input, &out);

  policy::Decision d;
  bool fits = status == 0 && outputFits(out);
  if (!fits || context.failed) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    d.outcome = policy::Outcome::Forbidden;
    if (fits) {
      d.realm = out.realm;
      d.container = out.container;
    }
    d.reason = context.failed ? "a credential verifier failed, so the request is denied"
                              : "the decision function returned an invalid result";
    return d;
  }
  d.outcome = static_cast<policy::Outcome>(out.outcome);
  d.realm = out.realm;
  d.container = out.container;
  d.group = out.group;
  d.challenges = static_cast<uint8_t>(out.challenges);
  if (with_reason) d.reason = reasonFor(d, *policy_, facts);
  return d;
}

}  // namespace hoody::jit
