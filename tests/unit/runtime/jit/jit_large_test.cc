// SPDX-License-Identifier: Apache-2.0
// A 100,000-container policy through the JIT engine: it compiles, and a
// sample of requests decides as the interpreter does. Prints the code
// generation and JIT times.
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"
#include "tests/unit/runtime/jit/differential.h"
#include "tests/unit/runtime/jit/smaps.h"

namespace hoody::jit {
namespace {

using testing::RandomCases;
using testing::RecordingVerifier;

constexpr int kContainers = 100000;
constexpr int kProjectSize = 100;
// Blocks are copies of this many templates with their own group names, as
// when operators reuse a standard block. Structurally equal blocks share one
// generated function.
constexpr int kTemplates = 120;

std::shared_ptr<ir::Policy> largePolicy(uint64_t seed) {
  RandomCases cases(seed);
  testing::PolicyShape shape;
  shape.max_blocks = kTemplates;
  shape.max_containers = 0;
  shape.max_realms = 1;
  std::shared_ptr<ir::Policy> templates;
  do {
    templates = cases.policy(shape);
  } while (templates->realms[0].blocks.size() < kTemplates / 2);
  const auto& blocks = templates->realms[0].blocks;

  auto policy = std::make_shared<ir::Policy>();
  std::mt19937_64& rng = cases.rng();
  for (int r = 0; r < 2; ++r) {
    ir::Realm realm;
    realm.name = "realm" + std::to_string(r);
    uint32_t project_block = 0;
    ir::Id96 project{};
    for (int c = 0; c < kContainers / 2; ++c) {
      auto newBlock = [&](const std::string& origin) {
        ir::PermissionBlock block = blocks[rng() % blocks.size()];
        block.origin = origin;
        for (auto& g : block.groups) g.name += "-" + std::to_string(realm.blocks.size());
        realm.blocks.push_back(std::move(block));
        return static_cast<uint32_t>(realm.blocks.size() - 1);
      };
      if (c % kProjectSize == 0) {
        for (auto& byte : project) byte = static_cast<uint8_t>(rng());
        project_block = newBlock("project p" + std::to_string(c / kProjectSize));
      }
      ir::Container container;
      container.name = "c" + std::to_string(c);
      for (auto& byte : container.id) byte = static_cast<uint8_t>(rng());
      container.project_id = project;
      container.block = c % 10 == 9 ? newBlock("container " + container.name) : project_block;
      container.maintenance = c % 97 == 0;
      realm.containers.push_back(std::move(container));
    }
    policy->realms.push_back(std::move(realm));
  }
  return policy;
}

TEST(JitLargeTest, HundredThousandContainers) {
  uint64_t seed = testing::baseSeed();
  SCOPED_TRACE("replay with HOODY_JIT_SEED=" + std::to_string(seed));
  auto policy = largePolicy(seed);
  const uintptr_t huge_before = testing::hugeAdvisedBytes();
  auto engine = JitEngine::create(policy);
  ASSERT_TRUE(engine) << engine.error().str();
  // The 4 MiB host table is the largest read-only section; it goes to memory
  // advised for huge pages (see runtime/jit/huge_page_mapper.h).
  if (testing::transparentHugePagesAvailable()) {
    EXPECT_GE(testing::hugeAdvisedBytes(), huge_before + (uintptr_t{4} << 20));
  }
  std::cout << "100000 containers: codegen " << (*engine)->stats().codegen_ms << " ms, JIT "
            << (*engine)->stats().jit_ms << " ms\n";

  policy::Interpreter interpreter(policy);
  RandomCases cases(seed + 1);
  RandomCases::Request request;
  RecordingVerifier interpreter_verifier;
  RecordingVerifier jit_verifier;
  int found = 0;
  for (int i = 0; i < 50000; ++i) {
    cases.request(*policy, request);
    interpreter_verifier.calls.clear();
    jit_verifier.calls.clear();
    policy::Decision expected = interpreter.decide(request.facts, interpreter_verifier);
    policy::Decision actual = (*engine)->decide(request.facts, jit_verifier);
    ASSERT_EQ(testing::compareDecisions(expected, actual), "")
        << "request " << i << ": " << testing::describe(request.facts);
    ASSERT_EQ(interpreter_verifier.calls, jit_verifier.calls)
        << "request " << i << ": " << testing::describe(request.facts);
    found += actual.outcome != policy::Outcome::NotFound;
  }
  // About 77% of random requests name a known container; the rest test
  // wrong IDs.
  EXPECT_GT(found, 35000);
}

}  // namespace
}  // namespace hoody::jit
