// SPDX-License-Identifier: Apache-2.0
// Differential tests: the JIT engine against the reference interpreter on
// random policies and requests. The two test cases together decide just over
// 1,000,000 requests.
//
// The base seed is random and printed on failure; HOODY_JIT_SEED=<seed>
// replays a run exactly.
#include <gtest/gtest.h>

#include <iostream>

#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"
#include "tests/unit/runtime/jit/differential.h"

namespace hoody::jit {
namespace {

using testing::PolicyShape;
using testing::RandomCases;
using testing::RecordingVerifier;

std::string describeCalls(const std::vector<testing::VerifierCall>& calls) {
  std::string text;
  for (const auto& call : calls) {
    text += std::string(1, call.kind) + "(" + (call.group ? call.group->name : "?") + ", \"" +
            call.first + "\", \"" + call.second + "\", " + std::to_string(call.now) + ") ";
  }
  return text.empty() ? "none" : text;
}

struct Totals {
  uint64_t requests = 0;
  double codegen_ms = 0;
  double jit_ms = 0;
};

// Decides `requests` random requests with both engines on one random policy.
// Returns false after reporting the first difference.
bool checkPolicy(uint64_t seed, const PolicyShape& shape, int requests, Totals& totals) {
  RandomCases cases(seed);
  auto policy = cases.policy(shape);
  policy::Interpreter interpreter(policy);
  auto engine = JitEngine::create(policy);
  if (!engine) {
    ADD_FAILURE() << "JIT engine creation failed: " << engine.error().str();
    return false;
  }
  totals.codegen_ms += (*engine)->stats().codegen_ms;
  totals.jit_ms += (*engine)->stats().jit_ms;

  RecordingVerifier interpreter_verifier;
  RecordingVerifier jit_verifier;
  RandomCases::Request request;
  for (int i = 0; i < requests; ++i) {
    cases.request(*policy, request);
    interpreter_verifier.calls.clear();
    jit_verifier.calls.clear();
    policy::Decision expected = interpreter.decide(request.facts, interpreter_verifier);
    policy::Decision actual = (*engine)->decide(request.facts, jit_verifier);
    ++totals.requests;
    std::string difference = testing::compareDecisions(expected, actual);
    if (!difference.empty() || interpreter_verifier.calls != jit_verifier.calls) {
      ADD_FAILURE() << "request " << i << ": " << testing::describe(request.facts) << "\n"
                    << (difference.empty() ? "decisions agree" : difference)
                    << "\ninterpreter verifier calls: " << describeCalls(interpreter_verifier.calls)
                    << "\njit verifier calls:         " << describeCalls(jit_verifier.calls);
      return false;
    }
  }
  return true;
}

void runPolicies(const char* label, const PolicyShape& shape, int policies, int requests) {
  uint64_t seed = testing::baseSeed();
  SCOPED_TRACE("replay with HOODY_JIT_SEED=" + std::to_string(seed));
  Totals totals;
  for (int p = 0; p < policies; ++p) {
    SCOPED_TRACE("policy " + std::to_string(p));
    if (!checkPolicy(seed + static_cast<uint64_t>(p) * 0x9e3779b97f4a7c15ULL, shape, requests,
                     totals)) {
      return;
    }
  }
  EXPECT_EQ(totals.requests, static_cast<uint64_t>(policies) * requests);
  std::cout << label << ": " << policies << " policies, " << totals.requests
            << " requests, seed " << seed << "; per policy: codegen " << totals.codegen_ms / policies
            << " ms, JIT " << totals.jit_ms / policies << " ms\n";
}

TEST(JitDiffTest, SmallPolicies) {
  runPolicies("small policies", PolicyShape{}, 200, 3000);
}

// Fewer, larger policies: long CIDR lists take the binary-search path and
// blocks have more groups of each rank.
TEST(JitDiffTest, WidePolicies) {
  PolicyShape shape;
  shape.max_realms = 2;
  shape.max_blocks = 6;
  shape.max_containers = 60;
  shape.max_groups = 10;
  shape.max_cidrs = 16;
  runPolicies("wide policies", shape, 80, 5000);
}

}  // namespace
}  // namespace hoody::jit
