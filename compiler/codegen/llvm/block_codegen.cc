// SPDX-License-Identifier: Apache-2.0
// Permission-block functions of the decision module.
//
// The emitted control flow mirrors Interpreter::decide step by step, because
// verifier calls are observable. A group is tried only when one of its grants
// covers the service, method and path and its IP condition holds. Only then
// is its verifier called.
#include "compiler/codegen/llvm/internal/block_codegen.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "runtime/jit/decision_abi.h"
#include "runtime/policy/decision.h"

namespace hoody::codegen {
namespace {

constexpr uint32_t kCredentialBasic = static_cast<uint32_t>(policy::Credentials::Kind::Basic);
constexpr uint32_t kCredentialBearer = static_cast<uint32_t>(policy::Credentials::Kind::Bearer);

uint32_t outcomeValue(policy::Outcome outcome) { return static_cast<uint32_t>(outcome); }

template <typename T>
void appendRaw(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Serializes everything a block function's code depends on, so two blocks
// with equal keys can share one function. Names, origins and secrets are left out because
// the code only passes group indices to the verifier helpers.
std::string structureKey(const ir::PermissionBlock& block) {
  std::string key;
  appendRaw(key, block.default_allow);
  appendRaw(key, block.groups.size());
  for (const auto& g : block.groups) {
    appendRaw(key, g.credential);
    appendRaw(key, g.has_ip);
    if (g.has_ip) {
      appendRaw(key, g.ip.v4.size());
      for (const auto& r : g.ip.v4) appendRaw(key, r);
      appendRaw(key, g.ip.v6.size());
      for (const auto& r : g.ip.v6) appendRaw(key, r);
    }
    appendRaw(key, g.grants.size());
    for (const auto& grant : g.grants) {
      appendRaw(key, grant.services);
      appendRaw(key, grant.methods);
      appendRaw(key, grant.path_prefixes.size());
      for (const auto& prefix : grant.path_prefixes) {
        appendRaw(key, prefix.size());
        key += prefix;
      }
    }
  }
  return key;
}

// `1 << value` for values below 32, else 0, so an out-of-range enum value
// matches no bit instead of producing a poison shift.
llvm::Value* bitOf(llvm::IRBuilder<>& b, llvm::Value* value) {
  llvm::Value* shifted = b.CreateShl(b.getInt32(1), b.CreateAnd(value, b.getInt32(31)));
  return b.CreateSelect(b.CreateICmpULT(value, b.getInt32(32)), shifted, b.getInt32(0));
}

}  // namespace

int groupRank(ir::CredentialKind kind) {
  switch (kind) {
    case ir::CredentialKind::None: return 0;
    case ir::CredentialKind::Bearer: return 1;
    case ir::CredentialKind::Jwt: return 2;
    case ir::CredentialKind::Password: return 3;
  }
  return 4;
}

/// Request fields the block's groups read; fields no group needs stay null.
struct BlockEmitter::RequestValues {
  llvm::Value* input = nullptr;
  llvm::Value* realm = nullptr;
  llvm::Value* block = nullptr;
  llvm::Value* service_bit = nullptr;
  llvm::Value* method_bit = nullptr;
  llvm::Value* path = nullptr;
  llvm::Value* path_len = nullptr;
  llvm::Value* is_v4 = nullptr;
  llvm::Value* v4 = nullptr;
  llvm::Value* v6 = nullptr;
  llvm::Value* credential_kind = nullptr;
  llvm::Value* context = nullptr;
};

llvm::Function* BlockEmitter::functionFor(const ir::PermissionBlock& block) {
  std::string key = structureKey(block);
  auto it = functions_.find(key);
  if (it != functions_.end()) return it->second;
  llvm::Function* f = emitBlock(block);
  functions_.emplace(std::move(key), f);
  return f;
}

// Every service shares one chain of groups. Switching on the service first,
// with code per service that tries only the groups naming it, was measured
// on the benchmark policies. It saved under 10% of the decision time and
// doubled the JIT time.
llvm::Function* BlockEmitter::emitBlock(const ir::PermissionBlock& block) {
  llvm::Function* f =
      mb_.createFunction(mb_.blockFunctionType(), "block_" + std::to_string(functions_.size()));
  auto& ctx = mb_.context();
  llvm::Value* input = f->getArg(0);
  llvm::Value* output = f->getArg(1);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto* groups = llvm::BasicBlock::Create(ctx, "groups", f);
  llvm::IRBuilder<> b(entry);
  llvm::Value* challenges = b.CreateAlloca(mb_.i32(), nullptr, "challenges");
  b.CreateStore(b.getInt32(0), challenges);
  llvm::Value* service = mb_.loadField(b, mb_.i32(), input, jit::kInputService, "service");
  llvm::Value* service_bit = bitOf(b, service);

  // When the default allows the service, no group is consulted.
  if (block.default_allow != ir::kNoServices) {
    auto* allow = llvm::BasicBlock::Create(ctx, "default_allow", f, groups);
    llvm::Value* allowed = b.CreateAnd(service_bit, b.getInt32(block.default_allow));
    b.CreateCondBr(b.CreateICmpNE(allowed, b.getInt32(0)), allow, groups);
    b.SetInsertPoint(allow);
    mb_.storeField(b, b.getInt32(outcomeValue(policy::Outcome::Allow)), output,
                   jit::kOutputOutcome);
    mb_.storeField(b, b.getInt32(-1), output, jit::kOutputGroup);
    b.CreateRetVoid();
  } else {
    b.CreateBr(groups);
  }

  b.SetInsertPoint(groups);
  RequestValues request = loadRequest(b, f, block);
  request.service_bit = service_bit;

  // Groups by rank, declaration order within a rank.
  std::vector<int> order(block.groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return groupRank(block.groups[x].credential) < groupRank(block.groups[y].credential);
  });
  for (int index : order) {
    const ir::Group& group = block.groups[index];
    auto* ip = llvm::BasicBlock::Create(ctx, "ip", f);
    auto* credential = llvm::BasicBlock::Create(ctx, "credential", f);
    auto* grant = llvm::BasicBlock::Create(ctx, "grant", f);
    auto* failed = llvm::BasicBlock::Create(ctx, "failed", f);
    auto* next = llvm::BasicBlock::Create(ctx, "next_group", f);

    emitCoverage(b, request, group, ip, next);
    b.SetInsertPoint(ip);
    emitIpCondition(b, request, group, credential, next);
    b.SetInsertPoint(credential);
    emitCredentialCheck(b, request, group, index, grant, failed);

    b.SetInsertPoint(grant);
    mb_.storeField(b, b.getInt32(outcomeValue(policy::Outcome::Allow)), output,
                   jit::kOutputOutcome);
    mb_.storeField(b, b.getInt32(index), output, jit::kOutputGroup);
    b.CreateRetVoid();

    // A credential group that covers the request but did not verify asks for
    // its credential kind in the 401 challenge.
    b.SetInsertPoint(failed);
    if (group.credential != ir::CredentialKind::None) {
      uint32_t bit = group.credential == ir::CredentialKind::Password ? policy::kChallengeBasic
                                                                       : policy::kChallengeBearer;
      llvm::Value* current = b.CreateLoad(mb_.i32(), challenges);
      b.CreateStore(b.CreateOr(current, b.getInt32(bit)), challenges);
    }
    b.CreateBr(next);
    b.SetInsertPoint(next);
  }

  // No group granted: 401 when some credential group could, else 403.
  llvm::Value* bits = b.CreateLoad(mb_.i32(), challenges, "challenge_bits");
  llvm::Value* outcome = b.CreateSelect(
      b.CreateICmpNE(bits, b.getInt32(0)), b.getInt32(outcomeValue(policy::Outcome::Unauthorized)),
      b.getInt32(outcomeValue(policy::Outcome::Forbidden)));
  mb_.storeField(b, outcome, output, jit::kOutputOutcome);
  mb_.storeField(b, bits, output, jit::kOutputChallenges);
  b.CreateRetVoid();
  return f;
}

// Loads the request fields the block's groups read, once per call: an
// IP-only block never touches the path, the IPv6 address or the credentials.
BlockEmitter::RequestValues BlockEmitter::loadRequest(llvm::IRBuilder<>& b, llvm::Function* f,
                                                      const ir::PermissionBlock& block) {
  RequestValues request;
  request.input = f->getArg(0);
  request.realm = f->getArg(2);
  request.block = f->getArg(3);
  llvm::Value* input = request.input;
  bool prefixes = false, ip = false, v6 = false, credential = false;
  for (const ir::Group& group : block.groups) {
    for (const auto& grant : group.grants) prefixes |= !grant.path_prefixes.empty();
    ip |= group.has_ip;
    v6 |= group.has_ip && !group.ip.v6.empty();
    credential |= group.credential != ir::CredentialKind::None;
  }
  if (block.groups.empty()) return request;

  request.method_bit = bitOf(b, mb_.loadField(b, mb_.i32(), input, jit::kInputMethod, "method"));
  if (prefixes) {
    request.path = mb_.loadField(b, mb_.ptr(), input, jit::kInputPath, "path");
    request.path_len = mb_.loadField(b, mb_.i64(), input, jit::kInputPathLen, "path_len");
  }
  if (ip) {
    request.is_v4 = b.CreateICmpNE(mb_.loadField(b, mb_.i32(), input, jit::kInputClientIsV4),
                                   b.getInt32(0), "is_v4");
    request.v4 = mb_.loadField(b, mb_.i32(), input, jit::kInputClientV4, "v4");
  }
  if (v6) {
    llvm::Value* hi = mb_.loadField(b, mb_.i64(), input, jit::kInputClientV6Hi);
    llvm::Value* lo = mb_.loadField(b, mb_.i64(), input, jit::kInputClientV6Lo);
    request.v6 = b.CreateOr(b.CreateShl(b.CreateZExt(hi, mb_.i128()), 64),
                            b.CreateZExt(lo, mb_.i128()), "v6");
  }
  if (credential) {
    request.credential_kind =
        mb_.loadField(b, mb_.i32(), input, jit::kInputCredentialKind, "credential_kind");
    request.context = mb_.loadField(b, mb_.ptr(), input, jit::kInputVerifierContext, "context");
  }
  return request;
}

// Branches to `yes` when any grant of `group` covers the service, method and
// path, trying grants in order and prefixes only after the bit tests pass.
void BlockEmitter::emitCoverage(llvm::IRBuilder<>& b, const RequestValues& request,
                                const ir::Group& group, llvm::BasicBlock* yes,
                                llvm::BasicBlock* no) {
  llvm::Function* f = b.GetInsertBlock()->getParent();
  auto& ctx = mb_.context();
  llvm::FunctionCallee has_prefix =
      mb_.helper(jit::kPathHasPrefixSymbol, mb_.i32(), {mb_.ptr(), mb_.i64(), mb_.ptr(), mb_.i64()});
  for (size_t i = 0; i < group.grants.size(); ++i) {
    const ir::Grant& grant = group.grants[i];
    llvm::BasicBlock* next_grant =
        i + 1 < group.grants.size() ? llvm::BasicBlock::Create(ctx, "next_grant", f) : no;
    llvm::Value* services = b.CreateAnd(request.service_bit, b.getInt32(grant.services));
    llvm::Value* methods = b.CreateAnd(request.method_bit, b.getInt32(grant.methods));
    llvm::Value* bits_match = b.CreateAnd(b.CreateICmpNE(services, b.getInt32(0)),
                                          b.CreateICmpNE(methods, b.getInt32(0)));
    if (grant.path_prefixes.empty()) {
      b.CreateCondBr(bits_match, yes, next_grant);
    } else {
      auto* prefix_block = llvm::BasicBlock::Create(ctx, "prefix", f);
      b.CreateCondBr(bits_match, prefix_block, next_grant);
      for (size_t p = 0; p < grant.path_prefixes.size(); ++p) {
        b.SetInsertPoint(prefix_block);
        const std::string& prefix = grant.path_prefixes[p];
        llvm::BasicBlock* next_prefix = p + 1 < grant.path_prefixes.size()
                                            ? llvm::BasicBlock::Create(ctx, "prefix", f)
                                            : next_grant;
        llvm::Value* matched =
            b.CreateCall(has_prefix, {request.path, request.path_len, mb_.constantString(prefix),
                                      b.getInt64(prefix.size())});
        b.CreateCondBr(b.CreateICmpNE(matched, b.getInt32(0)), yes, next_prefix);
        prefix_block = next_prefix;
      }
    }
    if (next_grant != no) b.SetInsertPoint(next_grant);
  }
  if (group.grants.empty()) b.CreateBr(no);
}

void BlockEmitter::emitIpCondition(llvm::IRBuilder<>& b, const RequestValues& request,
                                   const ir::Group& group, llvm::BasicBlock* yes,
                                   llvm::BasicBlock* no) {
  if (!group.has_ip) {
    b.CreateBr(yes);
    return;
  }
  llvm::Function* f = b.GetInsertBlock()->getParent();
  auto* v4 = llvm::BasicBlock::Create(mb_.context(), "ip_v4", f);
  auto* v6 = llvm::BasicBlock::Create(mb_.context(), "ip_v6", f);
  b.CreateCondBr(request.is_v4, v4, v6);
  b.SetInsertPoint(v4);
  ranges_.emitV4Test(b, request.v4, group.ip.v4, yes, no);
  b.SetInsertPoint(v6);
  ranges_.emitV6Test(b, request.v6, group.ip.v6, yes, no);
}

// Calls the group's verifier helper when the request presented the matching
// credential kind: Basic for password groups, Bearer for bearer and JWT.
void BlockEmitter::emitCredentialCheck(llvm::IRBuilder<>& b, const RequestValues& request,
                                       const ir::Group& group, int index, llvm::BasicBlock* yes,
                                       llvm::BasicBlock* no) {
  const char* symbol = nullptr;
  uint32_t presented_kind = kCredentialBearer;
  switch (group.credential) {
    case ir::CredentialKind::None:
      b.CreateBr(yes);
      return;
    case ir::CredentialKind::Password:
      symbol = jit::kVerifyPasswordSymbol;
      presented_kind = kCredentialBasic;
      break;
    case ir::CredentialKind::Bearer:
      symbol = jit::kVerifyBearerSymbol;
      break;
    case ir::CredentialKind::Jwt:
      symbol = jit::kVerifyJwtSymbol;
      break;
  }
  llvm::Function* f = b.GetInsertBlock()->getParent();
  auto* call = llvm::BasicBlock::Create(mb_.context(), "verify", f);
  b.CreateCondBr(b.CreateICmpEQ(request.credential_kind, b.getInt32(presented_kind)), call, no);

  b.SetInsertPoint(call);
  llvm::FunctionCallee verify = mb_.helper(
      symbol, mb_.i32(), {mb_.ptr(), mb_.ptr(), mb_.i32(), mb_.i32(), mb_.i32()});
  llvm::Value* verified = b.CreateCall(
      verify, {request.context, request.input, request.realm, request.block, b.getInt32(index)});
  b.CreateCondBr(b.CreateICmpNE(verified, b.getInt32(0)), yes, no);
}

}  // namespace hoody::codegen
