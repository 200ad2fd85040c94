// SPDX-License-Identifier: Apache-2.0
// Helpers for compiler tests: run the front end on policy text and look up
// diagnostics by code.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compiler/driver/frontend.h"

namespace hoody::testing {

// IDs that pass the checker (random-looking, distinct).
inline constexpr const char* kProjectId = "6a1f3c9e0b7d4e2f8a5c1d03";
inline constexpr const char* kContainerA = "0f3e2d1c4b5a69788796a5b4";
inline constexpr const char* kContainerB = "9c8b7a6f5e4d3c2b1a0f9e8d";
inline constexpr const char* kContainerC = "5d2e8f71c3a94b06e1d7c28a";

/// Runs the front end on one inline policy.
inline driver::FrontEndOutput check(const std::string& text,
                                    const std::string& path = "test.hoody") {
  driver::FrontEndOptions options;
  options.inline_sources.push_back({path, text});
  return driver::runFrontEnd(options);
}

/// Wraps project items in `realm r { project p id kProjectId { ... } }`.
inline std::string inProject(const std::string& items, const std::string& profile = "") {
  std::string out = "realm r {\n  project p id " + std::string(kProjectId) + " {\n";
  if (!profile.empty()) out += "    profile " + profile + "\n";
  return out + items + "\n  }\n}\n";
}

/// A container declaration with ID `id` and body `body`.
inline std::string container(const std::string& name, const std::string& id,
                             const std::string& body = "") {
  return "    container " + name + " id " + id + " {\n" + body + "\n    }\n";
}

inline std::vector<const diag::Diagnostic*> withCode(const driver::FrontEndOutput& out,
                                                     const std::string& code) {
  std::vector<const diag::Diagnostic*> found;
  for (const diag::Diagnostic& d : out.diagnostics) {
    if (d.code == code) found.push_back(&d);
  }
  return found;
}

inline size_t countCode(const driver::FrontEndOutput& out, const std::string& code) {
  return withCode(out, code).size();
}

/// The only diagnostic with `code`; fails the test when there is not
/// exactly one.
inline const diag::Diagnostic& only(const driver::FrontEndOutput& out, const std::string& code) {
  static const diag::Diagnostic kMissing{"(missing)", diag::Severity::Error, {}, "", ""};
  auto found = withCode(out, code);
  EXPECT_EQ(found.size(), 1u) << "diagnostics with code " << code << ":\n"
                              << driver::renderDiagnostics(out, false);
  return found.empty() ? kMissing : *found.front();
}

/// All diagnostics, rendered, for failure messages.
inline std::string rendered(const driver::FrontEndOutput& out) {
  return driver::renderDiagnostics(out, false);
}

/// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "hoody-compiler-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    path_ = mkdtemp(buffer.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  std::string write(const std::string& name, const std::string& content) const {
    std::string full = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream(full, std::ios::binary) << content;
    return full;
  }

 private:
  std::string path_;
};

}  // namespace hoody::testing
