// SPDX-License-Identifier: Apache-2.0
// Robustness of the front end on damaged input: random byte edits of the
// example policies never crash, never throw, and every failed run reports at
// least one error with a location in the file.
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

std::string readExample(const std::string& name) {
  std::ifstream in(std::string(HOODY_SOURCE_DIR) + "/policies/" + name, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Applies 1 to 4 random edits: delete, insert or replace a byte. Inserted
// bytes come from the policy alphabet plus a few hostile ones.
std::string mutate(std::string text, std::mt19937& rng) {
  using namespace std::string_literals;
  static const std::string kBytes = "{};,\"#/-.:0123456789abcdefxyz \n\t\\\xff\x00"s;
  std::uniform_int_distribution<int> edits(1, 4);
  for (int n = edits(rng); n > 0 && !text.empty(); --n) {
    std::uniform_int_distribution<size_t> at(0, text.size() - 1);
    std::uniform_int_distribution<size_t> byte(0, kBytes.size() - 1);
    size_t pos = at(rng);
    switch (rng() % 3) {
      case 0:
        text.erase(pos, 1);
        break;
      case 1:
        text.insert(pos, 1, kBytes[byte(rng)]);
        break;
      default:
        text[pos] = kBytes[byte(rng)];
    }
  }
  return text;
}

TEST(RobustnessTest, MutatedPoliciesNeverCrash) {
  std::mt19937 rng(20240601);  // Fixed seed: failures reproduce.
  for (const char* name : {"open.hoody", "team.hoody", "production.hoody"}) {
    std::string original = readExample(name);
    ASSERT_FALSE(original.empty()) << name;
    std::string path = std::string(HOODY_SOURCE_DIR) + "/policies/" + name;
    for (int i = 0; i < 1000; ++i) {
      std::string text = mutate(original, rng);
      auto out = check(text, path);
      if (!out.ok) {
        EXPECT_GT(out.error_count, 0u) << name << " mutation " << i;
      }
      for (const diag::Diagnostic& d : out.diagnostics) {
        EXPECT_FALSE(d.code.empty());
        EXPECT_FALSE(d.message.empty());
        EXPECT_EQ(d.message.find('\n'), std::string::npos) << d.message;
        if (d.span.line > 0) {
          EXPECT_GE(d.span.column, 1) << d.code;
        }
      }
      // Rendering must cope with every span, including ones past the end.
      EXPECT_FALSE(renderDiagnostics(out, false).empty() && !out.diagnostics.empty());
    }
  }
}

TEST(RobustnessTest, EmptyAndTinyInputs) {
  for (const char* text : {"", "\n", "realm", "}", "{", "\"", "#", "realm a {}"}) {
    auto out = check(text);
    EXPECT_EQ(out.ok, std::string(text).empty() || std::string(text) == "\n" ||
                          std::string(text) == "#" || std::string(text) == "realm a {}")
        << "input: " << text;
  }
}

}  // namespace
}  // namespace hoody::testing
