// SPDX-License-Identifier: Apache-2.0
// LLVM back end: the decision module's entry point, module metadata, light
// IR passes and bitcode output.
#include "compiler/codegen/llvm/decision_codegen.h"

#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/Mem2Reg.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <limits>
#include <mutex>

#include "compiler/codegen/llvm/internal/block_codegen.h"
#include "compiler/codegen/llvm/internal/host_table.h"
#include "compiler/codegen/llvm/internal/module_builder.h"
#include "runtime/abi/bundle.h"
#include "runtime/auth/auth.h"
#include "runtime/jit/decision_abi.h"
#include "runtime/policy/decision.h"

namespace hoody::codegen {
namespace {

uint32_t outcomeValue(policy::Outcome outcome) { return static_cast<uint32_t>(outcome); }

Unexpected<Error> invalidIr(const std::string& message) {
  return makeError("invalid-ir", message);
}

template <typename Range>
bool sortedDisjoint(const std::vector<Range>& ranges) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].last < ranges[i].first) return false;
    if (i > 0 && !(ranges[i - 1].last < ranges[i].first)) return false;
  }
  return true;
}

// Checks what the generated code relies on and the interpreter takes on trust.
Result<void> validatePolicy(const ir::Policy& policy) {
  constexpr size_t kMaxIndex = std::numeric_limits<int32_t>::max();
  if (policy.realms.size() > kMaxIndex) return invalidIr("too many realms");
  for (const auto& realm : policy.realms) {
    if (realm.containers.size() > kMaxIndex || realm.blocks.size() > kMaxIndex) {
      return invalidIr("realm `" + realm.name + "` has too many containers or blocks");
    }
    for (const auto& c : realm.containers) {
      if (c.block >= realm.blocks.size()) {
        return invalidIr("container `" + c.name + "` names permission block " +
                         std::to_string(c.block) + " of " + std::to_string(realm.blocks.size()));
      }
    }
    for (const auto& block : realm.blocks) {
      for (const auto& g : block.groups) {
        if (static_cast<unsigned>(g.credential) > static_cast<unsigned>(ir::CredentialKind::Jwt)) {
          return invalidIr("group `" + g.name + "` has an unknown credential kind");
        }
        if (!sortedDisjoint(g.ip.v4) || !sortedDisjoint(g.ip.v6)) {
          return invalidIr("group `" + g.name + "` has unsorted or overlapping address ranges");
        }
      }
    }
  }
  return {};
}

Result<HashKey> chooseHashKey(const CodegenOptions& options) {
  if (options.hash_key) return *options.hash_key;
  HashKey key;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), sizeof key) != 1) {
    return makeError("codegen-failed", "the OS random generator failed to draw a hash key");
  }
  return key;
}

Result<void> setHostTarget(llvm::Module& module) {
  if (!initializeHostTarget()) {
    return makeError("codegen-failed", "LLVM has no code generator for this host");
  }
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    return makeError("codegen-failed", "cannot detect the host target: " +
                                           llvm::toString(builder.takeError()));
  }
  auto layout = builder->getDefaultDataLayoutForTarget();
  if (!layout) {
    return makeError("codegen-failed", "cannot get the host data layout: " +
                                           llvm::toString(layout.takeError()));
  }
  module.setTargetTriple(builder->getTargetTriple().str());
  module.setDataLayout(*layout);
  return {};
}

// Returns a constant table of every realm's block functions, realm after
// realm, plus the index where each realm's blocks start.
llvm::GlobalVariable* blockFunctionTable(ModuleBuilder& mb, BlockEmitter& blocks,
                                         const ir::Policy& policy,
                                         std::vector<uint32_t>& realm_starts) {
  std::vector<llvm::Constant*> functions;
  for (const auto& realm : policy.realms) {
    realm_starts.push_back(static_cast<uint32_t>(functions.size()));
    for (const auto& block : realm.blocks) functions.push_back(blocks.functionFor(block));
  }
  auto* type = llvm::ArrayType::get(mb.ptr(), functions.size());
  return new llvm::GlobalVariable(mb.module(), type, /*isConstant=*/true,
                                  llvm::GlobalValue::PrivateLinkage,
                                  llvm::ConstantArray::get(type, functions), "block_functions");
}

// Emits `i32 hoody_decide(ptr input, ptr output)`: default output, host
// lookup, maintenance, then the container's block function. The host table
// slot holds realm, container, block and maintenance, so a decision reads no
// other per-container data.
void emitEntry(ModuleBuilder& mb, BlockEmitter& blocks, const ir::Policy& policy,
               const HostTable& table, const HashKey& key) {
  auto* type = llvm::FunctionType::get(mb.i32(), {mb.ptr(), mb.ptr()}, false);
  auto* f = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, jit::kDecideSymbol,
                                   mb.module());
  f->setDoesNotThrow();
  auto& ctx = mb.context();
  llvm::Value* input = f->getArg(0);
  llvm::Value* output = f->getArg(1);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
  auto* not_found = llvm::BasicBlock::Create(ctx, "not_found", f);

  mb.storeField(b, b.getInt32(outcomeValue(policy::Outcome::NotFound)), output,
                jit::kOutputOutcome);
  mb.storeField(b, b.getInt32(-1), output, jit::kOutputRealm);
  mb.storeField(b, b.getInt32(-1), output, jit::kOutputContainer);
  mb.storeField(b, b.getInt32(-1), output, jit::kOutputGroup);
  mb.storeField(b, b.getInt32(0), output, jit::kOutputChallenges);
  HostMatch match = emitHostLookup(mb, b, input, table, key, not_found);
  mb.storeField(b, match.realm, output, jit::kOutputRealm);
  mb.storeField(b, match.container, output, jit::kOutputContainer);

  if (table.any_maintenance) {
    auto* in_maintenance = llvm::BasicBlock::Create(ctx, "maintenance", f);
    auto* serving = llvm::BasicBlock::Create(ctx, "serving", f);
    b.CreateCondBr(match.maintenance, in_maintenance, serving);
    b.SetInsertPoint(in_maintenance);
    mb.storeField(b, b.getInt32(outcomeValue(policy::Outcome::Maintenance)), output,
                  jit::kOutputOutcome);
    b.CreateRet(b.getInt32(0));
    b.SetInsertPoint(serving);
  }

  std::vector<uint32_t> realm_starts;
  llvm::GlobalVariable* functions = blockFunctionTable(mb, blocks, policy, realm_starts);
  llvm::Value* index = b.CreateZExt(match.block, mb.i64());
  if (policy.realms.size() > 1) {
    auto* starts = mb.constantArray(llvm::ArrayRef(realm_starts), "realm_block_starts");
    llvm::Value* realm_start =
        mb.loadElement(b, mb.i32(), starts, b.CreateZExt(match.realm, mb.i64()), "realm_start");
    index = b.CreateAdd(index, b.CreateZExt(realm_start, mb.i64()), "function_index");
  }
  llvm::Value* callee = mb.loadElement(b, mb.ptr(), functions, index, "block_function");
  b.CreateCall(mb.blockFunctionType(), callee, {input, output, match.realm, match.block});
  b.CreateRet(b.getInt32(0));

  b.SetInsertPoint(not_found);
  b.CreateRet(b.getInt32(0));
}

void emitMetadata(ModuleBuilder& mb, const ir::Policy& policy) {
  auto* version = llvm::ConstantInt::get(mb.i32(), jit::kDecisionAbiVersion);
  new llvm::GlobalVariable(mb.module(), mb.i32(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, version, jit::kAbiVersionSymbol);
  auto digest = policyDigest(policy);
  auto* bytes = llvm::ConstantDataArray::get(mb.context(), llvm::ArrayRef(digest));
  new llvm::GlobalVariable(mb.module(), bytes->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, bytes, jit::kPolicyDigestSymbol);
}

// mem2reg turns the challenge accumulator into SSA values and simplifycfg
// merges the branch chains. InstCombine was measured too: it added about 15%
// to code generation plus JIT time of small policies and removed under 1% of
// the instructions executed per decision, so it is left out.
void runLightPasses(llvm::Module& module) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);

  llvm::FunctionPassManager fpm;
  fpm.addPass(llvm::PromotePass());
  fpm.addPass(llvm::SimplifyCFGPass());
  llvm::ModulePassManager mpm;
  mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(fpm)));
  mpm.run(module, mam);
}

}  // namespace

bool initializeHostTarget() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter();
  });
  return ok;
}

// OpenSSL rather than auth::sha256: OpenSSL uses the CPU's SHA instructions
// where present, and the encoded IR of a 100,000-container policy is tens of
// megabytes. Both compute the same SHA-256.
std::array<uint8_t, 32> policyDigest(const ir::Policy& policy) {
  std::string encoded = bundle::encodeIr(policy);
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(encoded.data(), encoded.size(), digest.data(), &size, EVP_sha256(), nullptr) !=
          1 ||
      size != digest.size()) {
    return auth::sha256(encoded);
  }
  return digest;
}

Result<std::unique_ptr<llvm::Module>> generateDecisionModule(const ir::Policy& policy,
                                                             llvm::LLVMContext& context,
                                                             const CodegenOptions& options) {
  HOODY_TRY(validatePolicy(policy));
  auto key = chooseHashKey(options);
  if (!key) return Unexpected<Error>{key.error()};
  auto table = buildHostTable(policy, *key);
  if (!table) return Unexpected<Error>{table.error()};

  auto module = std::make_unique<llvm::Module>("hoody_decisions", context);
  HOODY_TRY(setHostTarget(*module));
  ModuleBuilder mb(context, *module);
  BlockEmitter blocks(mb);
  emitEntry(mb, blocks, policy, *table, *key);
  emitMetadata(mb, policy);

  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (llvm::verifyModule(*module, &stream)) {
    stream.flush();
    return makeError("codegen-failed", "the generated module is invalid: " + problems);
  }
  if (options.optimize) runLightPasses(*module);
  return module;
}

Result<std::string> emitBitcode(const ir::Policy& policy, const CodegenOptions& options) {
  llvm::LLVMContext context;
  auto module = generateDecisionModule(policy, context, options);
  if (!module) return Unexpected<Error>{module.error()};
  std::string bitcode;
  llvm::raw_string_ostream stream(bitcode);
  llvm::WriteBitcodeToFile(**module, stream);
  stream.flush();
  return bitcode;
}

}  // namespace hoody::codegen
