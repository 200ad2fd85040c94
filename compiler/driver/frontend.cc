// SPDX-License-Identifier: Apache-2.0
// Front-end stage list.
#include "compiler/driver/frontend.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "compiler/driver/test_cases.h"
#include "compiler/lower/describe.h"
#include "compiler/lower/host_lower.h"
#include "compiler/lower/inventory.h"
#include "compiler/lower/lower.h"
#include "compiler/parse/parser.h"
#include "compiler/sema/checker.h"

namespace hoody::driver {
namespace {

// Policies and inventories are text files written by people or the
// platform; anything larger is almost certainly the wrong file.
constexpr size_t kMaxInputBytes = 64u << 20;

std::optional<std::string> readFile(const std::string& path, diag::DiagnosticSink& sink) {
  std::error_code ec;
  diag::Span whole_file{path, 0, 0, 0, 0};
  if (std::filesystem::is_directory(path, ec)) {
    sink.error("io-error", whole_file, fmt::format("cannot read {}: it is a directory",
                                                   diag::quote(path)),
               "name a policy file");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    sink.error("io-error", whole_file,
               fmt::format("cannot read {}: {}", diag::quote(path),
                           std::error_code(errno, std::generic_category()).message()),
               "check the path and its permissions");
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > kMaxInputBytes) {
    sink.error("io-error", whole_file,
               fmt::format("{} is larger than {} MiB", diag::quote(path), kMaxInputBytes >> 20),
               "split the policy into several files");
    return std::nullopt;
  }
  return text;
}

// Records the time since the previous mark as one stage.
class StageClock {
 public:
  explicit StageClock(std::vector<StageTime>& times) : times_(times) {}

  void mark(std::string stage) {
    times_.push_back(endStage(std::move(stage), last_));
    last_ = std::chrono::steady_clock::now();
  }

 private:
  std::vector<StageTime>& times_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

StageTime endStage(std::string stage, std::chrono::steady_clock::time_point start) {
  StageTime t;
  t.stage = std::move(stage);
  t.milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) t.max_rss_kib = static_cast<size_t>(usage.ru_maxrss);
  return t;
}

FrontEndOutput runFrontEnd(const FrontEndOptions& options) {
  FrontEndOutput out;
  diag::DiagnosticSink sink;
  StageClock clock(out.stage_times);

  // 1. Read and parse every policy.
  std::vector<InlineSource> inputs = options.inline_sources;
  for (const std::string& path : options.files) {
    if (auto text = readFile(path, sink)) inputs.push_back({path, std::move(*text)});
  }
  if (options.files.empty() && options.inline_sources.empty()) {
    sink.error("io-error", {}, "no policy files given", "name one or more policy files");
  }
  clock.mark("read");
  ast::Program program;
  bool parsed_all = true;
  for (const InlineSource& input : inputs) {
    out.sources[input.path] = input.text;
    auto file = parse::parseFile(input.path, input.text, sink);
    if (file) {
      program.files.push_back(std::move(*file));
    } else {
      parsed_all = false;
    }
  }
  clock.mark("parse");

  // 2. Check all files together; checking a partial program would report
  // names declared in a file that failed to parse as unknown.
  std::optional<ir::Policy> policy;
  ir::HostPolicy host;
  if (parsed_all && sink.errorCount() == 0) {
    sema::Scope scope(program);
    sema::CheckedInputs checked;
    sema::Context ctx{program, scope, sink, checked};
    sema::runChecks(ctx);
    clock.mark("check");

    // 3. Lower and collect the policy's tests.
    if (sink.errorCount() == 0) {
      policy = lower::lowerProgram(scope, checked);
      host = lower::lowerHost(scope);
      out.tests = collectTestCases(scope);
      clock.mark("lower");
    }
  }

  // 4. The inventory.
  if (options.inventory_path) {
    const std::string& path = *options.inventory_path;
    if (auto text = readFile(path, sink)) {
      out.sources[path] = *text;
      auto inventory = lower::parseInventory(path, *text, sink);
      if (inventory && policy) {
        lower::ContainerDeclarations declarations(program);
        lower::joinInventory(*inventory, *policy, declarations, options.require_inventory, sink);
        lower::joinHostInventory(*inventory, host, declarations, options.require_host_inventory,
                                 sink);
      }
    }
    clock.mark("inventory");
  }

  out.diagnostics = sink.take();
  diag::sortDiagnostics(out.diagnostics);
  for (const diag::Diagnostic& d : out.diagnostics) {
    if (d.severity == diag::Severity::Error) ++out.error_count;
    if (d.severity == diag::Severity::Warning) ++out.warning_count;
  }
  out.ok = out.error_count == 0 && policy.has_value();
  if (out.ok) {
    out.policy = std::move(*policy);
    out.host = std::move(host);
  } else {
    out.tests.clear();
  }
  return out;
}

std::string renderDiagnostics(const FrontEndOutput& out, bool color) {
  diag::RenderOptions options;
  options.color = color;
  return diag::renderText(out.diagnostics, out.sources, options);
}

std::string renderDiagnosticsJson(const FrontEndOutput& out) {
  return diag::renderJson(out.diagnostics);
}

std::string describeEffectivePermissions(const ir::Policy& policy, std::string_view realm,
                                         std::string_view container) {
  return lower::describeEffectivePermissions(policy, realm, container);
}

}  // namespace hoody::driver
