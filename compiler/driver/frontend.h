// SPDX-License-Identifier: Apache-2.0
// The front end as hoodyc uses it: policy files (+ inventory) -> diagnostics,
// decision IR and the policy's own test cases.
//
// The stages run in order. Every file is read and parsed. When no file has a
// syntax error, the checker runs over all of them together. When the checker
// finds no error, the program is lowered to the decision IR and its test
// cases are collected. Last, the inventory is parsed and, when the policy
// was lowered, joined with it. Diagnostics of every stage are collected,
// sorted by location and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/diag/render.h"
#include "runtime/abi/decision_ir.h"
#include "runtime/abi/host_ir.h"

namespace hoody::driver {

/// A policy given as text instead of a file (tests, stdin). `path` names it
/// in diagnostics, and JWT key files are resolved relative to it.
struct InlineSource {
  std::string path;
  std::string text;
};

struct FrontEndOptions {
  /// Policy files; several realms per file are allowed, and a realm name
  /// declared twice is a `duplicate-name` error.
  std::vector<std::string> files;
  /// Policies given as text, checked together with `files`.
  std::vector<InlineSource> inline_sources;
  /// Joined when present.
  std::optional<std::string> inventory_path;
  /// compile: every container must be in the inventory.
  bool require_inventory = false;
  /// apply: warn about containers the inventory gives no interface.
  bool require_host_inventory = false;
};

/// One `request` line of a `test` block.
struct PolicyTestCase {
  std::string test_name, file;
  int line = 0, column = 0;
  std::string realm, container;  ///< `container` is empty when raw_ids is set.
  ir::Service service = ir::Service::Http;
  uint32_t instance = 1;
  std::string client;  ///< Address text.
  std::string method = "GET", path = "/";
  std::string presenting_group;  ///< Empty: no credential presented.
  int expect_status = 0;
  std::string expect_group;  ///< Empty: not checked. `default`: granted by the default.
  /// The host's ID pair: the named container's IDs, or the IDs written in a
  /// `<container-id>-<project-id>.service` target (which may match nothing,
  /// to test the 404 outcome).
  ir::Id96 container_id{}, project_id{};
  bool raw_ids = false;
};

/// Wall time of one compile stage, for `hoodyc compile --timings`.
struct StageTime {
  std::string stage;  ///< For example "parse", "check", "lower" or "inventory".
  double milliseconds = 0;
  /// Peak resident set size of the process at the end of the stage.
  size_t max_rss_kib = 0;
};

/// Returns the stage `stage` that started at `start` and ends now.
StageTime endStage(std::string stage, std::chrono::steady_clock::time_point start);

struct FrontEndOutput {
  bool ok = false;    ///< No errors.
  ir::Policy policy;  ///< Valid when ok.
  ir::HostPolicy host;  ///< Firewall, network and seccomp; valid when ok.
  std::vector<PolicyTestCase> tests;
  std::vector<diag::Diagnostic> diagnostics;  ///< Sorted by location.
  size_t error_count = 0, warning_count = 0;
  /// Contents of every file read (policies and inventory), for excerpts.
  diag::SourceMap sources;
  /// The stages that ran, in order.
  std::vector<StageTime> stage_times;
};

FrontEndOutput runFrontEnd(const FrontEndOptions& options);

/// Renders diagnostics compiler-style (with source line and caret), at most
/// 100, followed by a count line.
std::string renderDiagnostics(const FrontEndOutput& out, bool color);

/// Renders diagnostics as JSON (see diag::renderJson).
std::string renderDiagnosticsJson(const FrontEndOutput& out);

/// Describes the effective permissions of one container (see
/// lower::describeEffectivePermissions); empty when it does not exist.
std::string describeEffectivePermissions(const ir::Policy& policy, std::string_view realm,
                                         std::string_view container);

}  // namespace hoody::driver
