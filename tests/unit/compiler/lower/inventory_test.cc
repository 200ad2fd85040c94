// SPDX-License-Identifier: Apache-2.0
// Tests of the inventory join and its diagnostics.
#include "compiler/lower/inventory.h"

#include <fmt/format.h>

#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

class InventoryTest : public ::testing::Test {
 protected:
  driver::FrontEndOutput run(const std::string& inventory, bool require) {
    std::string policy = inProject("permissions { default allow http }\n" +
                                   container("a", kContainerA) + container("b", kContainerB));
    driver::FrontEndOptions options;
    options.files.push_back(dir_.write("p.hoody", policy));
    options.inventory_path = dir_.write("inventory.json", inventory);
    options.require_inventory = require;
    return driver::runFrontEnd(options);
  }

  TempDir dir_;
};

std::string entry(const char* id, const std::string& body) {
  return std::string("\"") + id + "\": " + body;
}

TEST_F(InventoryTest, JoinsUpstreamsAndPorts) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\", \"services\": { \"http\": "
                                       "18080, \"terminal\": 18081, \"files\": { \"1\": 18082, "
                                       "\"2\": 18083 } } }") +
                    ",\n" + entry(kContainerB, "{ \"upstream\": \"::1\" }") + "\n} }\n";
  auto out = run(inv, true);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.policy.node, "node-us");
  EXPECT_EQ(out.policy.domain, "example.net");
  const ir::Container& a = out.policy.realms[0].containers[0];
  EXPECT_EQ(a.upstream.address, "127.0.0.1");
  std::vector<ir::ServicePort> expected = {{ir::Service::Http, 1, 18080},
                                           {ir::Service::Terminal, 1, 18081},
                                           {ir::Service::Files, 1, 18082},
                                           {ir::Service::Files, 2, 18083}};
  EXPECT_EQ(a.upstream.ports, expected);
  EXPECT_EQ(out.policy.realms[0].containers[1].upstream.address, "::1");
}

TEST_F(InventoryTest, InvalidJsonIsLocated) {
  auto out = run("{ \"node\": \"node-us\",\n  \"domain\": \"example.net\" \"containers\": {} }", false);
  const auto& d = only(out, "invalid-inventory");
  EXPECT_EQ(d.span.file, dir_.path() + "/inventory.json");
  EXPECT_EQ(d.span.line, 2);
  EXPECT_EQ(d.span.column, 27);
  EXPECT_EQ(d.span.end_column, 39);
  EXPECT_EQ(d.message.rfind("the inventory is not valid JSON: ", 0), 0u) << d.message;
  EXPECT_FALSE(out.ok);
}

TEST_F(InventoryTest, NumberOverflowIsInvalidJson) {
  // json::parse throws out_of_range, not parse_error, for this number.
  std::string inv =
      "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
      entry(kContainerA, "{ \"upstream\": \"127.0.0.1\", \"services\": { \"http\": 1e999 } }") +
      "\n} }\n";
  auto out = run(inv, false);
  const auto& d = only(out, "invalid-inventory");
  EXPECT_EQ(d.message, "the inventory is not valid JSON: number overflow parsing '1e999'");
  EXPECT_EQ(d.span.line, 2);
  EXPECT_EQ(d.span.column, 78);
  EXPECT_EQ(d.span.end_column, 83);
  EXPECT_FALSE(out.ok);
}

TEST_F(InventoryTest, ContainersMayComeFirst) {
  std::string inv = "{ \"containers\": {\n" + entry(kContainerA, "{ \"upstream\": \"::1\" }") +
                    ",\n" + entry(kContainerC, "{ \"upstream\": \"127.0.0.1\" }") +
                    "\n}, \"node\": \"node-us\", \"domain\": \"example.net\" }\n";
  auto out = run(inv, false);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(only(out, "unknown-container").span.line, 3);
  EXPECT_EQ(out.policy.node, "node-us");
  EXPECT_EQ(out.policy.domain, "example.net");
  EXPECT_EQ(out.policy.realms[0].containers[0].upstream.address, "::1");
}

TEST_F(InventoryTest, RepeatedContainerKeyKeepsLast) {
  // As json::parse does: the last value of a repeated key wins, and the
  // first is neither joined nor checked.
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"localhost\" }") + ",\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.2\" }") + ",\n" +
                    entry(kContainerB, "{ \"upstream\": \"127.0.0.3\" }") + "\n} }\n";
  auto out = run(inv, true);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.diagnostics.size(), 0u) << rendered(out);
  EXPECT_EQ(out.policy.realms[0].containers[0].upstream.address, "127.0.0.2");
  EXPECT_EQ(out.policy.realms[0].containers[1].upstream.address, "127.0.0.3");
}

TEST_F(InventoryTest, RepeatedContainersObjectKeepsLast) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\",\n\"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\" }") +
                    "\n},\n\"containers\": {\n" + entry(kContainerB, "{ \"upstream\": \"::1\" }") +
                    "\n} }\n";
  auto out = run(inv, false);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.policy.realms[0].containers[0].upstream.address, "");
  EXPECT_EQ(out.policy.realms[0].containers[1].upstream.address, "::1");
}

// `id` with its last character written as a JSON `\u` escape.
std::string escapedLast(const char* id) {
  std::string text(id);
  char last = text.back();
  text.pop_back();
  return text + fmt::format("\\u{:04x}", static_cast<unsigned>(last));
}

TEST_F(InventoryTest, EscapedRepeatedKeyKeepsLast) {
  // Repeats are found by the decoded key, so an escaped spelling counts.
  for (bool escaped_first : {false, true}) {
    std::string first = escaped_first ? escapedLast(kContainerA) : kContainerA;
    std::string second = escaped_first ? kContainerA : escapedLast(kContainerA);
    std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                      entry(first.c_str(), "{ \"upstream\": \"127.0.0.1\" }") + ",\n" +
                      entry(second.c_str(), "{ \"upstream\": \"127.0.0.2\" }") + "\n} }\n";
    auto out = run(inv, false);
    ASSERT_TRUE(out.ok) << rendered(out);
    EXPECT_EQ(out.diagnostics.size(), 0u) << rendered(out);
    EXPECT_EQ(out.policy.realms[0].containers[0].upstream.address, "127.0.0.2");
  }
}

TEST_F(InventoryTest, EscapedContainersObjectReplaces) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\",\n\"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\" }") +
                    "\n},\n\"c\\u006fntainers\": {\n" +
                    entry(kContainerB, "{ \"upstream\": \"::1\" }") + "\n} }\n";
  auto out = run(inv, false);
  ASSERT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.policy.realms[0].containers[0].upstream.address, "");
  EXPECT_EQ(out.policy.realms[0].containers[1].upstream.address, "::1");

  // Container `a` on line 4 of the policy was only in the replaced object.
  auto required = run(inv, true);
  EXPECT_FALSE(required.ok);
  EXPECT_EQ(only(required, "missing-inventory-entry").span.line, 4) << rendered(required);
}

TEST_F(InventoryTest, DeeplyNestedValueIsReported) {
  // Printing a nested value in the message recursed once per level.
  constexpr int kDepth = 100000;
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\", \"services\": { \"http\": " +
                                           std::string(kDepth, '[') + std::string(kDepth, ']') +
                                           " } }") +
                    "\n} }\n";
  auto out = run(inv, false);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(only(out, "invalid-port").message,
            "port `[...]` of service `http` instance 1 is not a port number");
}

TEST_F(InventoryTest, UnknownEntryKeyWarns) {
  // A misspelled `services` would otherwise leave the container without ports.
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\",\n  \"service\": { \"http\": 8080 } }") +
                    "\n} }\n";
  auto out = run(inv, false);
  ASSERT_TRUE(out.ok) << rendered(out);
  const auto& d = only(out, "invalid-inventory");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message, std::string("unknown key `service` in the entry of container `") +
                           kContainerA + "` is ignored");
  EXPECT_EQ(d.span.line, 3);
  EXPECT_EQ(d.span.column, 3);
  EXPECT_TRUE(out.policy.realms[0].containers[0].upstream.ports.empty());
}

TEST_F(InventoryTest, InstanceErrorPointsAtItsService) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\", \"services\": {\n"
                                       "  \"http\": { \"1\": 8080 },\n"
                                       "  \"files\": { \"1\": 99999 } } }") +
                    "\n} }\n";
  auto out = run(inv, false);
  const auto& d = only(out, "invalid-port");
  EXPECT_EQ(d.span.line, 4);
  EXPECT_EQ(d.span.column, 14);
}

TEST_F(InventoryTest, MissingContainerIsAnErrorOnlyWhenRequired) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"127.0.0.1\" }") + "\n} }\n";
  auto checked = run(inv, false);
  EXPECT_TRUE(checked.ok) << rendered(checked);
  EXPECT_EQ(countCode(checked, "missing-inventory-entry"), 0u);

  auto compiled = run(inv, true);
  const auto& d = only(compiled, "missing-inventory-entry");
  EXPECT_EQ(d.span.file, dir_.path() + "/p.hoody");
  EXPECT_EQ(d.message.rfind("container `b` is not in the inventory", 0), 0u);
  EXPECT_FALSE(compiled.ok);
}

TEST_F(InventoryTest, UnknownContainerIdWarns) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerC, "{ \"upstream\": \"127.0.0.1\" }") + "\n} }\n";
  auto out = run(inv, false);
  const auto& d = only(out, "unknown-container");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.span.line, 2);
  EXPECT_EQ(d.span.column, 1);
}

TEST_F(InventoryTest, BadEntriesAreLocated) {
  std::string inv = "{ \"node\": \"node-us\", \"domain\": \"example.net\", \"containers\": {\n" +
                    entry(kContainerA, "{ \"upstream\": \"localhost\" }") + ",\n" +
                    entry(kContainerB, "{ \"upstream\": \"127.0.0.1\",\n \"services\": { \"htp\": 1, "
                                       "\"files\": 70000, \"code\": { \"0\": 5 } } }") +
                    ",\n\"ABC\": {}\n} }\n";
  auto out = run(inv, false);
  const auto& address = only(out, "invalid-address");
  EXPECT_EQ(address.span.line, 2);
  const auto& service = only(out, "unknown-service");
  EXPECT_EQ(service.span.line, 4);
  EXPECT_EQ(service.help.rfind("did you mean `http`?", 0), 0u);
  EXPECT_EQ(only(out, "invalid-port").message,
            "port `70000` of service `files` instance 1 is not a port number");
  EXPECT_EQ(only(out, "invalid-inventory").message,
            "instance `0` of service `code` is not a number from 1");
  EXPECT_EQ(only(out, "invalid-id").span.line, 5);
}

TEST_F(InventoryTest, NodeAndDomainMustBeNames) {
  auto out = run("{ \"node\": \"Node_US\", \"domain\": \"example..net\", \"containers\": {} }", false);
  EXPECT_EQ(countCode(out, "invalid-inventory"), 2u) << rendered(out);
}

TEST_F(InventoryTest, WrongShape) {
  auto out = run("[1, 2]", false);
  EXPECT_EQ(only(out, "invalid-inventory").message, "the inventory is not a JSON object");
}

}  // namespace
}  // namespace hoody::testing
