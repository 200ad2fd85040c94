// SPDX-License-Identifier: Apache-2.0
// Tests decision bitcode carried in a bundle as `decision.bc`: written as an
// artifact, loaded back with its hash checked, and compiled by the JIT engine
// to the interpreter's decisions.
//
// The seed is random and printed on failure; HOODY_JIT_SEED=<seed> replays it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "compiler/codegen/llvm/decision_codegen.h"
#include "runtime/abi/bundle.h"
#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"
#include "tests/unit/runtime/jit/differential.h"

namespace hoody::jit {
namespace {

using testing::RandomCases;
using testing::RecordingVerifier;

constexpr int kRequests = 5000;

class JitBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hoody-jit-bundle-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a bundle of `policy` whose `decision.bc` contains `bitcode`.
  void writeWithBitcode(const ir::Policy& policy, std::string bitcode) {
    bundle::BundleInfo info;
    info.artifacts.push_back({"decision.bc", std::move(bitcode), {}});
    auto written = bundle::writeBundle(dir_, policy, info);
    ASSERT_TRUE(written) << written.error().str();
  }

  // Loads the bundle's policy and compiles its `decision.bc`.
  Result<std::shared_ptr<JitEngine>> loadEngine(std::shared_ptr<const ir::Policy>& policy) {
    auto loaded = bundle::loadBundle(dir_);
    if (!loaded) return Unexpected<Error>{loaded.error()};
    policy = std::make_shared<const ir::Policy>(std::move(*loaded));
    auto bitcode = bundle::loadArtifact(dir_, "decision.bc");
    if (!bitcode) return Unexpected<Error>{bitcode.error()};
    return JitEngine::createFromBitcode(*bitcode, policy);
  }

  std::filesystem::path dir_;
};

TEST_F(JitBundleTest, BitcodeArtifactDecidesLikeInterpreter) {
  uint64_t seed = testing::baseSeed();
  SCOPED_TRACE("HOODY_JIT_SEED=" + std::to_string(seed));
  RandomCases cases(seed);
  std::shared_ptr<ir::Policy> compiled = cases.policy({});
  auto bitcode = codegen::emitBitcode(*compiled);
  ASSERT_TRUE(bitcode) << bitcode.error().str();
  writeWithBitcode(*compiled, std::move(*bitcode));

  std::shared_ptr<const ir::Policy> policy;
  auto engine = loadEngine(policy);
  ASSERT_TRUE(engine) << engine.error().str();
  policy::Interpreter interpreter(policy);
  RecordingVerifier interpreter_verifier;
  RecordingVerifier jit_verifier;
  RandomCases::Request request;
  for (int i = 0; i < kRequests; ++i) {
    cases.request(*policy, request);
    interpreter_verifier.calls.clear();
    jit_verifier.calls.clear();
    policy::Decision expected = interpreter.decide(request.facts, interpreter_verifier);
    policy::Decision actual = (*engine)->decide(request.facts, jit_verifier);
    ASSERT_EQ(testing::compareDecisions(expected, actual), "")
        << "request " << i << ": " << testing::describe(request.facts);
    ASSERT_EQ(interpreter_verifier.calls, jit_verifier.calls)
        << "request " << i << ": " << testing::describe(request.facts);
  }
}

TEST_F(JitBundleTest, BitcodeOfOtherPolicyIsRejected) {
  uint64_t seed = testing::baseSeed();
  SCOPED_TRACE("HOODY_JIT_SEED=" + std::to_string(seed));
  RandomCases cases(seed);
  std::shared_ptr<ir::Policy> compiled = cases.policy({});
  auto bitcode = codegen::emitBitcode(*compiled);
  ASSERT_TRUE(bitcode) << bitcode.error().str();
  // The IR in the bundle differs from the policy the bitcode was made from.
  ir::Policy changed = *compiled;
  changed.node += "-changed";
  writeWithBitcode(changed, std::move(*bitcode));

  std::shared_ptr<const ir::Policy> policy;
  auto engine = loadEngine(policy);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "policy-mismatch");
}

TEST_F(JitBundleTest, BundleWithoutBitcodeIsMissingArtifact) {
  auto written = bundle::writeBundle(dir_, ir::Policy{}, {});
  ASSERT_TRUE(written) << written.error().str();

  std::shared_ptr<const ir::Policy> policy;
  auto engine = loadEngine(policy);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "missing-artifact");
  ASSERT_NE(policy, nullptr);
  EXPECT_TRUE(policy->realms.empty());
}

}  // namespace
}  // namespace hoody::jit
