// SPDX-License-Identifier: Apache-2.0
// Tests of ID checks: invalid-id, low-entropy-id and duplicate-id.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

driver::FrontEndOutput checkContainerId(const std::string& id) {
  return check(inProject(container("a", id)));
}

TEST(CheckIdsTest, AcceptsRandomIds) {
  auto out = checkContainerId(kContainerA);
  EXPECT_EQ(countCode(out, "invalid-id"), 0u);
  EXPECT_EQ(countCode(out, "low-entropy-id"), 0u);
}

TEST(CheckIdsTest, UppercaseIdShowsLowercaseForm) {
  auto out = checkContainerId("0F3E2D1C4B5A69788796A5B4");
  const auto& d = only(out, "invalid-id");
  EXPECT_EQ(d.message, "container ID `0F3E2D1C4B5A69788796A5B4` contains uppercase letters");
  EXPECT_EQ(d.help, "IDs are lowercase; write `0f3e2d1c4b5a69788796a5b4`");
}

TEST(CheckIdsTest, WrongLength) {
  auto out = checkContainerId("0f3e2d1c4b5a6978");
  EXPECT_EQ(only(out, "invalid-id").message,
            "container ID `0f3e2d1c4b5a6978` has 16 digits; expected 24");
}

TEST(CheckIdsTest, NonHexCharacter) {
  auto out = checkContainerId("0f3e2d1c4b5a69788796a5bz");
  EXPECT_EQ(only(out, "invalid-id").message,
            "container ID `0f3e2d1c4b5a69788796a5bz` contains `z`, which is not a hex digit");
}

TEST(CheckIdsTest, InvalidProjectId) {
  auto out = check("realm r { project p id 12345 { } }\n");
  EXPECT_EQ(only(out, "invalid-id").message, "project ID `12345` has 5 digits; expected 24");
}

TEST(CheckIdsTest, LowEntropyPatterns) {
  struct Case {
    const char* id;
    const char* reason;
  };
  const Case cases[] = {
      {"000000000000000000000000", "it repeats the digit `0` 6 or more times in a row"},
      {"7f3a9c00000012e4b5d8a6c1", "it repeats the digit `0` 6 or more times in a row"},
      {"0123456789abcdef01234567", "it contains the counting sequence `012345`"},
      {"9f3a7c1e2b4dfedcba12e4b5", "it contains the counting sequence `fedcba`"},
      {"deadbeefdeadbeefdeadbeef", "it repeats the pattern `deadbeef`"},
      {"abcabdabcabdabcabdabcabd", "it repeats the pattern `abcabd`"},
      {"1a1b1c1a1b1c2a2b2c2a2b2c", "it uses only 5 different digits"},
  };
  for (const Case& c : cases) {
    auto out = checkContainerId(c.id);
    const auto& d = only(out, "low-entropy-id");
    EXPECT_EQ(d.severity, diag::Severity::Warning);
    EXPECT_EQ(d.message, std::string("container ID `") + c.id + "` does not look random: " + c.reason);
    EXPECT_TRUE(out.ok) << "a low-entropy ID is a warning, not an error";
  }
}

TEST(CheckIdsTest, DuplicateContainerIdAcrossRealms) {
  std::string text = std::string("realm a { project p id ") + kProjectId + " { container x id " +
                     kContainerA + " } }\nrealm b { project q id " + kContainerB +
                     " { container y id " + kContainerA + " } }\n";
  auto out = check(text);
  const auto& d = only(out, "duplicate-id");
  EXPECT_EQ(d.span.line, 2);
  EXPECT_EQ(d.message, std::string("ID `") + kContainerA +
                           "` is already used by container `x` of realm `a` at test.hoody:1");
}

TEST(CheckIdsTest, ContainerIdEqualToProjectId) {
  auto out = check(inProject(container("a", kProjectId)));
  EXPECT_EQ(countCode(out, "duplicate-id"), 1u);
}

}  // namespace
}  // namespace hoody::testing
