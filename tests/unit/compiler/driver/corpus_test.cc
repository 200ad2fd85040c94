// SPDX-License-Identifier: Apache-2.0
// Diagnostic corpus: each tests/corpus/diagnostics/NNN-name.policy is
// checked on its own, and the rendered diagnostics must equal
// NNN-name.expect byte for byte.
//
// To add a case, write the .policy file and run this test once with
// HOODY_UPDATE_CORPUS=1, which writes the missing or changed .expect
// files; then read every new .expect file before committing it.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCorpusDir = "tests/corpus/diagnostics";

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> corpusCases() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(HOODY_SOURCE_DIR) / kCorpusDir)) {
    if (entry.path().extension() == ".policy") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs from the source directory so that file names in diagnostics and key
// file paths are relative to it, whatever the test's working directory.
class CorpusTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    previous_ = fs::current_path();
    fs::current_path(HOODY_SOURCE_DIR);
  }
  void TearDown() override { fs::current_path(previous_); }

 private:
  fs::path previous_;
};

TEST_P(CorpusTest, RenderedDiagnosticsMatch) {
  std::string base = std::string(kCorpusDir) + "/" + GetParam();
  driver::FrontEndOptions options;
  options.files.push_back(base + ".policy");
  std::string actual = driver::renderDiagnostics(driver::runFrontEnd(options), false);

  fs::path expect_path = base + ".expect";
  const char* update = std::getenv("HOODY_UPDATE_CORPUS");
  if (update != nullptr && std::string(update) == "1") {
    if (!fs::exists(expect_path) || readText(expect_path) != actual) {
      std::ofstream(expect_path, std::ios::binary) << actual;
    }
    return;
  }
  ASSERT_TRUE(fs::exists(expect_path)) << expect_path << " is missing";
  EXPECT_EQ(actual, readText(expect_path)) << "in " << base << ".policy";
}

TEST(CorpusListTest, CorpusIsNotEmpty) { EXPECT_GE(corpusCases().size(), 10u); }

INSTANTIATE_TEST_SUITE_P(Diagnostics, CorpusTest, ::testing::ValuesIn(corpusCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace hoody::testing
