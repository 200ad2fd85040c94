// SPDX-License-Identifier: Apache-2.0
// Tests for the IPv4 range search tree of the decision module: its layout,
// and JIT decisions at every range edge for lists of one to three tree
// levels, including ranges that touch 0.0.0.0 and 255.255.255.255.
#include <gtest/gtest.h>

#include <random>

#include "compiler/codegen/llvm/internal/ip_ranges.h"
#include "runtime/abi/address.h"
#include "runtime/jit/jit_engine.h"
#include "tests/unit/runtime/jit/differential.h"

namespace hoody::jit {
namespace {

using codegen::V4Tree;

// `count` disjoint ranges of random sizes, optionally starting at 0 and
// ending at 0xffffffff.
std::vector<ir::V4Range> randomRanges(std::mt19937_64& rng, size_t count, bool touch_ends) {
  ir::IpSet set;
  while (set.v4.size() < count) {
    net::Cidr cidr;
    cidr.network.is_v4 = true;
    cidr.prefix = 20 + static_cast<int>(rng() % 13);
    cidr.network.v4 = static_cast<uint32_t>(rng()) & ~((1ull << (32 - cidr.prefix)) - 1);
    net::addToSet(set, cidr);
  }
  if (touch_ends) {
    net::addToSet(set, *net::parseCidr("0.0.0.0/30"));
    net::addToSet(set, *net::parseCidr("255.255.255.252/30"));
  }
  return set.v4;
}

std::shared_ptr<ir::Policy> policyWith(const std::vector<ir::V4Range>& ranges) {
  ir::Group group;
  group.name = "listed";
  group.has_ip = true;
  group.ip.v4 = ranges;
  group.grants.push_back({ir::kAllServices, ir::kAllMethods, {}});
  ir::Realm realm;
  realm.name = "tree";
  realm.blocks.emplace_back().groups.push_back(group);
  ir::Container c;
  c.name = "c";
  c.id.fill(0x11);
  c.project_id.fill(0x22);
  realm.containers.push_back(c);
  auto policy = std::make_shared<ir::Policy>();
  policy->realms.push_back(realm);
  return policy;
}

TEST(V4TreeTest, LevelsArePaddedNodes) {
  std::mt19937_64 rng(1);
  std::vector<ir::V4Range> ranges = randomRanges(rng, 1001, false);
  ASSERT_EQ(ranges.size(), 1001u);
  V4Tree tree = codegen::buildV4Tree(ranges);

  // 126 leaves of 8 ranges, 8 nodes of 16 above them, then the root.
  ASSERT_EQ(tree.levels.size(), 3u);
  EXPECT_EQ(tree.nodes, (std::vector<size_t>{126, 8, 1}));
  EXPECT_EQ(tree.levels[0].size(), 126u * 16);
  EXPECT_EQ(tree.levels[1].size(), 128u);
  EXPECT_EQ(tree.levels[2].size(), 16u);

  // A leaf contains 8 starts, then their ends.
  EXPECT_EQ(tree.levels[0][124 * 16 + 7], ranges[999].first);
  EXPECT_EQ(tree.levels[0][124 * 16 + 15], ranges[999].last);
  EXPECT_EQ(tree.levels[0][125 * 16], ranges[1000].first);
  EXPECT_EQ(tree.levels[0][125 * 16 + 8], ranges[1000].last);
  // Leaf padding: the start 0xffffffff, the last range's end.
  EXPECT_EQ(tree.levels[0][125 * 16 + 1], 0xffffffffu);
  EXPECT_EQ(tree.levels[0][125 * 16 + 9], ranges[1000].last);

  // Inner levels: the first start of each node below, then padding.
  EXPECT_EQ(tree.levels[1][125], ranges[1000].first);
  EXPECT_EQ(tree.levels[1][126], 0xffffffffu);
  EXPECT_EQ(tree.levels[2][7], ranges[7 * 128].first);
  EXPECT_EQ(tree.levels[2][8], 0xffffffffu);
}

TEST(V4TreeTest, ShortListIsOneLeaf) {
  std::vector<ir::V4Range> ranges = {{10, 20}, {30, 40}, {50, 60}, {70, 80}, {90, 100}};
  V4Tree tree = codegen::buildV4Tree(ranges);
  ASSERT_EQ(tree.levels.size(), 1u);
  EXPECT_EQ(tree.levels[0].size(), 16u);
  EXPECT_EQ(tree.nodes, std::vector<size_t>{1});
  EXPECT_EQ(tree.levels[0][4], 90u);
  EXPECT_EQ(tree.levels[0][12], 100u);
}

class V4TreeEdgeTest : public ::testing::TestWithParam<std::tuple<size_t, bool>> {};

// Every range edge, its neighbours and the ends of the address space decide
// as net::setContains returns.
TEST_P(V4TreeEdgeTest, EdgesMatchSetContains) {
  auto [count, touch_ends] = GetParam();
  std::mt19937_64 rng(count * 2 + touch_ends);
  std::vector<ir::V4Range> ranges = randomRanges(rng, count, touch_ends);
  auto policy = policyWith(ranges);
  auto engine = JitEngine::create(policy);
  ASSERT_TRUE(engine) << engine.error().str();
  testing::RecordingVerifier verifier;

  policy::RequestFacts f;
  f.host.container.fill(0x11);
  f.host.project.fill(0x22);
  std::vector<uint32_t> probes = {0, 1, 0xfffffffe, 0xffffffff};
  for (const auto& r : ranges) {
    for (uint32_t a : {r.first - 1, r.first, r.first + 1, r.last - 1, r.last, r.last + 1}) {
      probes.push_back(a);
    }
  }
  for (int i = 0; i < 2000; ++i) probes.push_back(static_cast<uint32_t>(rng()));

  size_t allowed = 0;
  size_t expected_allowed = 0;
  for (uint32_t a : probes) {
    f.client = {true, a, {}};
    bool inside = net::setContains(policy->realms[0].blocks[0].groups[0].ip, f.client);
    policy::Decision d = (*engine)->decide(f, verifier, false);
    ASSERT_EQ(d.outcome, inside ? policy::Outcome::Allow : policy::Outcome::Forbidden)
        << net::formatAddress(f.client) << " with " << ranges.size() << " ranges";
    allowed += d.outcome == policy::Outcome::Allow;
    expected_allowed += inside;
  }
  EXPECT_EQ(allowed, expected_allowed);
  EXPECT_GT(allowed, ranges.size() * 2);
}

INSTANTIATE_TEST_SUITE_P(Sizes, V4TreeEdgeTest,
                         ::testing::Combine(::testing::Values(5, 8, 9, 128, 129, 2048, 2049,
                                                              5000),
                                            ::testing::Bool()));

}  // namespace
}  // namespace hoody::jit
