// SPDX-License-Identifier: Apache-2.0
// Tests for the libnftables applier, against the kernel inside network
// namespaces the tests create: text and JSON load the same table, a
// rejected ruleset changes nothing, dry runs and plans.
#include "runtime/host/nftables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "compiler/backend/nft/nft_backend.h"
#include "tests/unit/host/nft/sample_policies.h"
#include "tests/unit/host/support/netns.h"

namespace hoody::host {
namespace {

using ::testing::HasSubstr;
using hoody::testing::NamespaceEntry;
using hoody::testing::NetNamespace;

// Lists the table with the nft command, independently of the applier.
std::string listTable(const NetNamespace& ns) {
  return ns.exec({"nft", "list", "table", "inet", "hoody"}).output;
}

class NftablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = hoody::testing::netnsUnavailable()) GTEST_SKIP() << *reason;
  }
};

// Inserts `line` after the first line of `text` that contains `after`, and
// returns the 1-based number of the inserted line.
size_t insertAfter(std::string& text, const std::string& after, const std::string& line) {
  size_t at = text.find(after);
  size_t end = text.find('\n', at);
  text.insert(end + 1, line + "\n");
  return static_cast<size_t>(std::count(text.begin(), text.begin() + end + 1, '\n')) + 1;
}

TEST_F(NftablesTest, TextAndJsonLoadTheSameTable) {
  nft::Ruleset rs = nft::emitRuleset(hoody::testing::everyRuleKind());
  NetNamespace from_text;
  NetNamespace from_json;
  ASSERT_TRUE(from_text.created()) << from_text.error();
  ASSERT_TRUE(from_json.created()) << from_json.error();
  {
    NamespaceEntry enter(from_text);
    ASSERT_TRUE(enter.entered());
    auto r = replaceTable(rs.text);
    ASSERT_TRUE(r) << r.error().str();
  }
  {
    NamespaceEntry enter(from_json);
    ASSERT_TRUE(enter.entered());
    auto r = replaceTable(rs.json);
    ASSERT_TRUE(r) << r.error().str();
  }
  std::string text_listing = listTable(from_text);
  EXPECT_THAT(text_listing, HasSubstr("chain out_9c8b7a6f5e4d3c2b1a0f9e8d {"));
  EXPECT_THAT(text_listing, HasSubstr("oifname \"hwg9c8b7a6f5e4d\" return"));
  EXPECT_EQ(text_listing, listTable(from_json));
}

TEST_F(NftablesTest, EmptyPolicyLoads) {
  nft::Ruleset rs = nft::emitRuleset(ir::HostPolicy{});
  NetNamespace ns;
  ASSERT_TRUE(ns.created()) << ns.error();
  NamespaceEntry enter(ns);
  auto text = replaceTable(rs.text);
  ASSERT_TRUE(text) << text.error().str();
  auto json = replaceTable(rs.json);
  ASSERT_TRUE(json) << json.error().str();
  auto loaded = loadedTable();
  ASSERT_TRUE(loaded) << loaded.error().str();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->chains.size(), 2u);
}

TEST_F(NftablesTest, ReplaceLeavesNothingOfTheOldTable) {
  nft::Ruleset first = nft::emitRuleset(hoody::testing::everyRuleKind());
  nft::Ruleset second = nft::emitRuleset(hoody::testing::manyContainers(3));
  NetNamespace replaced;
  NetNamespace fresh;
  ASSERT_TRUE(replaced.created()) << replaced.error();
  ASSERT_TRUE(fresh.created()) << fresh.error();
  {
    NamespaceEntry enter(replaced);
    ASSERT_TRUE(replaceTable(first.text));
    ASSERT_TRUE(replaceTable(second.text));
  }
  {
    NamespaceEntry enter(fresh);
    ASSERT_TRUE(replaceTable(second.text));
  }
  EXPECT_THAT(listTable(replaced), ::testing::Not(HasSubstr("veth-web")));
  EXPECT_EQ(listTable(replaced), listTable(fresh));
}

TEST_F(NftablesTest, RejectedTextChangesNothing) {
  nft::Ruleset good = nft::emitRuleset(hoody::testing::everyRuleKind());
  std::string broken = nft::emitRuleset(hoody::testing::manyContainers(2)).text;
  size_t line = insertAfter(broken, "ct state invalid drop", "\t\tjump nochain");
  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);
  ASSERT_TRUE(replaceTable(good.text));
  std::string before = listTable(ns);

  auto r = replaceTable(broken);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "nft-rejected");
  EXPECT_THAT(r.error().message, HasSubstr("Could not process rule: No such file or directory"));
  EXPECT_THAT(r.error().message, HasSubstr(fmt::format(":{}:", line)));
  EXPECT_EQ(listTable(ns), before);
}

TEST_F(NftablesTest, RejectedJsonChangesNothing) {
  nft::Ruleset good = nft::emitRuleset(hoody::testing::everyRuleKind());
  std::string broken = nft::emitRuleset(hoody::testing::manyContainers(2)).json;
  broken.insert(broken.rfind("]}"),
                ",{\"rule\":{\"family\":\"inet\",\"table\":\"hoody\",\"chain\":\"forward\","
                "\"expr\":[{\"jump\":{\"target\":\"nochain\"}}]}}\n");
  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);
  ASSERT_TRUE(replaceTable(good.json));
  std::string before = listTable(ns);

  auto r = replaceTable(broken);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "nft-rejected");
  EXPECT_THAT(r.error().message, HasSubstr("No such file or directory"));
  EXPECT_EQ(listTable(ns), before);
}

TEST_F(NftablesTest, JsonForAnotherTableIsRejected) {
  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);
  auto r = replaceTable(
      R"({"nftables":[{"table":{"family":"inet","name":"filter"}},)"
      R"({"chain":{"family":"inet","table":"filter","name":"x"}}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid-ruleset");
  EXPECT_THAT(r.error().message, HasSubstr("`table` is not in table inet hoody"));
  auto bad = replaceTable("{\"nftables\": 5}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid-ruleset");
  EXPECT_THAT(ns.exec({"nft", "list", "ruleset"}).output, ::testing::Not(HasSubstr("table")));
}

TEST_F(NftablesTest, CheckChangesNothing) {
  nft::Ruleset first = nft::emitRuleset(hoody::testing::everyRuleKind());
  nft::Ruleset second = nft::emitRuleset(hoody::testing::manyContainers(3));
  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);

  auto check = checkTable(first.text);
  ASSERT_TRUE(check) << check.error().str();
  auto absent = loadedTable();
  ASSERT_TRUE(absent) << absent.error().str();
  EXPECT_FALSE(absent->has_value());

  ASSERT_TRUE(replaceTable(first.text));
  std::string before = listTable(ns);
  EXPECT_TRUE(checkTable(second.text));
  EXPECT_TRUE(checkTable(second.json));
  std::string broken = second.text;
  insertAfter(broken, "ct state invalid drop", "\t\tjump nochain");
  auto rejected = checkTable(broken);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, "nft-rejected");
  EXPECT_EQ(listTable(ns), before);
}

TEST_F(NftablesTest, LoadedTableReadsDigests) {
  nft::Ruleset rs = nft::emitRuleset(hoody::testing::everyRuleKind());
  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);
  ASSERT_TRUE(replaceTable(rs.text));
  auto loaded = loadedTable();
  ASSERT_TRUE(loaded) << loaded.error().str();
  ASSERT_TRUE(loaded->has_value());
  auto planned = summarizeRuleset(rs.json);
  ASSERT_TRUE(planned) << planned.error().str();
  EXPECT_EQ((*loaded)->chains.size(), rs.chains);
  for (const auto& [name, chain] : planned->chains) {
    ASSERT_TRUE((*loaded)->chains.count(name)) << name;
    EXPECT_EQ((*loaded)->chains.at(name).digest, chain.digest) << name;
    EXPECT_EQ(chain.digest.size(), 16u) << name;
  }
  EXPECT_EQ((*loaded)->chains.at("in_0f3e2d1c4b5a69788796a5b4").label, "acme/shop/web");
}

TEST_F(NftablesTest, DeleteTableIsIdempotent) {
  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);
  EXPECT_TRUE(deleteTable());
  ASSERT_TRUE(replaceTable(nft::emitRuleset(hoody::testing::manyContainers(1)).text));
  EXPECT_TRUE(deleteTable());
  auto loaded = loadedTable();
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(NftablesTest, PlanReportsContainerChanges) {
  using hoody::testing::container;
  ir::HostPolicy v1;
  v1.containers = {container("keep", "aaaaaaaaaaaaaaaaaaaaaaaa", "veth-keep"),
                   container("edit", "bbbbbbbbbbbbbbbbbbbbbbbb", "veth-edit"),
                   container("drop", "cccccccccccccccccccccccc", "veth-drop")};
  ir::HostPolicy v2;
  v2.containers = {v1.containers[0], v1.containers[1],
                   container("new", "dddddddddddddddddddddddd", "veth-new")};
  v2.containers[0].firewall.rules.push_back(hoody::testing::rule(
      ir::Direction::Ingress, false, ir::Protocol::Tcp, {}, {}, "moved.hoody:99"));
  v1.containers[0].firewall.rules.push_back(hoody::testing::rule(
      ir::Direction::Ingress, false, ir::Protocol::Tcp, {}, {}, "moved.hoody:1"));
  v2.containers[1].firewall.ingress_allow = true;
  nft::Ruleset first = nft::emitRuleset(v1);
  nft::Ruleset second = nft::emitRuleset(v2);

  NetNamespace ns;
  ASSERT_TRUE(ns.created());
  NamespaceEntry enter(ns);
  ASSERT_TRUE(replaceTable(first.text));
  std::string before = listTable(ns);
  auto loaded = loadedTable();
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(checkTable(second.text));
  auto plan = planChanges(*loaded, second.json);
  ASSERT_TRUE(plan) << plan.error().str();

  ASSERT_EQ(plan->containers.size(), 4u);
  EXPECT_EQ(plan->containers[0].label, "acme/shop/new");
  EXPECT_EQ(plan->containers[0].change, Change::Added);
  EXPECT_EQ(plan->containers[1].id, "cccccccccccccccccccccccc");
  EXPECT_EQ(plan->containers[1].change, Change::Removed);
  EXPECT_EQ(plan->containers[2].label, "acme/shop/edit");
  EXPECT_EQ(plan->containers[2].change, Change::Changed);
  EXPECT_EQ(plan->containers[3].label, "acme/shop/keep");
  EXPECT_EQ(plan->containers[3].change, Change::Unchanged);
  EXPECT_TRUE(plan->table_loaded);
  EXPECT_FALSE(plan->base_changed);
  EXPECT_EQ(formatPlan(*plan),
            "nftables table inet hoody: 1 added, 1 removed, 1 changed, 1 unchanged\n"
            "  added     acme/shop/new dddddddddddddddddddddddd\n"
            "  removed   acme/shop/drop cccccccccccccccccccccccc\n"
            "  changed   acme/shop/edit bbbbbbbbbbbbbbbbbbbbbbbb\n");
  EXPECT_EQ(listTable(ns), before);
}

TEST(NftablesPlanTest, EverythingIsAddedWithoutTable) {
  nft::Ruleset rs = nft::emitRuleset(hoody::testing::manyContainers(2));
  auto plan = planChanges(std::nullopt, rs.json);
  ASSERT_TRUE(plan) << plan.error().str();
  EXPECT_FALSE(plan->table_loaded);
  EXPECT_TRUE(plan->base_changed);
  EXPECT_EQ(plan->count(Change::Added), 2u);
  EXPECT_THAT(formatPlan(*plan), HasSubstr("2 added, 0 removed, 0 changed, 0 unchanged "
                                           "(no table loaded yet)"));
}

TEST(NftablesPlanTest, DigestsMatchJsonSummary) {
  nft::Ruleset rs = nft::emitRuleset(hoody::testing::everyRuleKind());
  auto from_json = summarizeRuleset(rs.json);
  ASSERT_TRUE(from_json) << from_json.error().str();
  TableSummary from_digests = summarizeDigests(rs.digests);
  ASSERT_EQ(from_digests.chains.size(), from_json->chains.size());
  for (const auto& [name, chain] : from_json->chains) {
    ASSERT_TRUE(from_digests.chains.count(name)) << name;
    EXPECT_EQ(from_digests.chains.at(name).digest, chain.digest) << name;
    EXPECT_EQ(from_digests.chains.at(name).label, chain.label) << name;
  }
  EXPECT_EQ(from_json->chains.at("forward").label, "forward");
}

TEST(NftablesPlanTest, ChainWithoutDigestCountsAsChanged) {
  TableSummary loaded;
  loaded.chains["forward"] = {"", ""};
  loaded.chains["in_aaaaaaaaaaaaaaaaaaaaaaaa"] = {"", ""};
  loaded.chains["out_aaaaaaaaaaaaaaaaaaaaaaaa"] = {"", ""};
  TableSummary planned = loaded;
  Plan plan = planChanges(loaded, planned);
  ASSERT_EQ(plan.containers.size(), 1u);
  EXPECT_EQ(plan.containers[0].change, Change::Changed);
  EXPECT_TRUE(plan.base_changed);
}

TEST(NftablesPlanTest, RejectsRulesetThatIsNotJson) {
  auto plan = planChanges(std::nullopt, "table inet hoody {}");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, "invalid-listing");
}

}  // namespace
}  // namespace hoody::host
