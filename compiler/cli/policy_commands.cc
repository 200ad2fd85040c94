// SPDX-License-Identifier: Apache-2.0
// hoodyc check, compile and test.
#include <fmt/format.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBufferRef.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/cli/commands.h"
#include "compiler/cli/front.h"
#include "compiler/cli/host_artifacts.h"
#include "compiler/codegen/llvm/decision_codegen.h"
#include "runtime/abi/address.h"
#include "runtime/abi/bundle.h"
#include "runtime/http/path.h"
#include "runtime/jit/decision_abi.h"
#include "runtime/policy/interpreter.h"
#include "runtime/policy/presented_verifier.h"

namespace hoody::cli {
namespace {

// The credential a test presents: Basic for password groups, Bearer for the
// others. Its content is irrelevant to PresentedGroupVerifier.
policy::Credentials presentedCredentials(const ir::Policy& policy, const std::string& group) {
  policy::Credentials c;
  if (group.empty()) return c;
  c.kind = policy::Credentials::Kind::Bearer;
  c.token = "presented";
  for (const auto& realm : policy.realms) {
    for (const auto& block : realm.blocks) {
      for (const auto& g : block.groups) {
        if (g.name == group && g.credential == ir::CredentialKind::Password) {
          c.kind = policy::Credentials::Kind::Basic;
          c.user = g.passwords.empty() ? "user" : g.passwords.front().user;
          c.password = "presented";
        }
      }
    }
  }
  return c;
}

// Generates the decision functions of `policy` as LLVM bitcode for the
// bundle. Its manifest entry records the target triple and the decision ABI
// version, which JitEngine::createFromBitcode checks before it compiles.
Result<bundle::Artifact> decisionBitcode(const ir::Policy& policy) {
  auto bitcode = codegen::emitBitcode(policy);
  if (!bitcode) return Unexpected<Error>{bitcode.error()};
  auto triple = llvm::getBitcodeTargetTriple(llvm::MemoryBufferRef(*bitcode, "decision.bc"));
  if (!triple) {
    return makeError("codegen-failed", "cannot read the target triple of the generated bitcode: " +
                                           llvm::toString(triple.takeError()));
  }
  bundle::Artifact artifact;
  artifact.name = "decision.bc";
  artifact.fields = {{"target_triple", *triple},
                     {"decision_abi_version", std::to_string(jit::kDecisionAbiVersion)}};
  artifact.bytes = std::move(*bitcode);
  return artifact;
}

using Clock = std::chrono::steady_clock;

// One line per stage, then the total, so operators can see where a slow
// compile spends its time and memory.
void printStageTimes(std::vector<driver::StageTime> stages, Clock::time_point started) {
  stages.push_back(driver::endStage("total", started));
  std::cerr << fmt::format("hoodyc: {:<10} {:>10} {:>13}\n", "stage", "wall ms", "peak RSS MiB");
  for (const driver::StageTime& t : stages) {
    std::cerr << fmt::format("hoodyc: {:<10} {:>10.1f} {:>13.1f}\n", t.stage, t.milliseconds,
                             t.max_rss_kib / 1024.0);
  }
}

}  // namespace

int runCheck(const PolicyInput& input) {
  FrontEnd front = runFront(input, false);
  if (!front.ran) return kExitUsage;
  if (input.json) {
    std::cout << driver::renderDiagnosticsJson(front.out) << "\n";
  } else {
    std::cerr << driver::renderDiagnostics(front.out, input.color);
  }
  return front.out.ok ? kExitOk : kExitPolicy;
}

std::string writeCompiledBundle(const PolicyInput& input, const ir::Policy& policy,
                                std::vector<bundle::Artifact> extra, const std::string& dir,
                                std::vector<driver::StageTime>* stage_times) {
  bundle::BundleInfo info;
  info.sources = input.files;
  info.inventory = input.inventory.value_or("");
  auto stage_start = Clock::now();
  auto bitcode = decisionBitcode(policy);
  if (!bitcode) return "cannot generate the decision functions: " + bitcode.error().message;
  if (stage_times != nullptr) stage_times->push_back(driver::endStage("codegen", stage_start));
  info.artifacts.push_back(std::move(*bitcode));
  for (bundle::Artifact& a : extra) info.artifacts.push_back(std::move(a));
  stage_start = Clock::now();
  auto written = bundle::writeBundle(dir, policy, info);
  if (!written) return written.error().message;
  if (stage_times != nullptr) stage_times->push_back(driver::endStage("write", stage_start));
  return {};
}

int runCompile(const PolicyInput& input, const std::string& out_dir, bool timings) {
  auto started = Clock::now();
  FrontEnd front = runFront(input, true);
  if (!front.ran) return kExitUsage;
  std::vector<driver::StageTime> stage_times = front.out.stage_times;
  auto stage_start = Clock::now();
  std::cerr << driver::renderDiagnostics(front.out, input.color);
  stage_times.push_back(driver::endStage("report", stage_start));
  if (!front.out.ok) {
    if (timings) printStageTimes(stage_times, started);
    return kExitPolicy;
  }

  stage_start = Clock::now();
  auto host = buildHost(front.out.host);
  if (!host) {
    std::cerr << "hoodyc: error: cannot build the host artifacts: " << host.error().message
              << "\n";
    return kExitPolicy;
  }
  stage_times.push_back(driver::endStage("host", stage_start));
  std::string failed =
      writeCompiledBundle(input, front.out.policy, std::move(host->files), out_dir, &stage_times);
  if (!failed.empty()) {
    std::cerr << "hoodyc: error: " << failed << "\n";
    return kExitUsage;
  }

  size_t containers = 0;
  for (const auto& realm : front.out.policy.realms) containers += realm.containers.size();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started)
                .count();
  std::cerr << "hoodyc: wrote bundle " << out_dir << " (" << front.out.policy.realms.size()
            << " realm(s), " << containers << " container(s), " << host->containers
            << " in the firewall table, " << host->profiles << " seccomp profile(s), "
            << front.out.warning_count << " warning(s)) in " << ms << " ms\n";
  if (timings) printStageTimes(stage_times, started);
  return kExitOk;
}

int runTest(const PolicyInput& input) {
  FrontEnd front = runFront(input, false);
  if (!front.ran) return kExitUsage;
  std::cerr << driver::renderDiagnostics(front.out, input.color);
  if (!front.out.ok) {
    return kExitPolicy;
  }
  auto policy = std::make_shared<ir::Policy>(front.out.policy);
  policy::Interpreter interp(policy);
  int passed = 0, failed = 0;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& t : front.out.tests) {
    std::string failure;
    auto client = net::parseAddress(t.client);
    // Decide on the path the proxy would decide on; a path it rejects is 400.
    Result<http::NormalizedTarget> target = http::normalizeTarget(t.path);
    if (!client) {
      failure = client.error().message;
    } else if (!target) {
      if (t.expect_status != 400) {
        failure = "expected " + std::to_string(t.expect_status) + ", got 400: " +
                  target.error().message;
      }
    } else {
      policy::Credentials creds = presentedCredentials(*policy, t.presenting_group);
      policy::RequestFacts f;
      f.host = {t.container_id, t.project_id, t.service, t.instance};
      f.client = *client;
      f.method = ir::methodFromToken(t.method);
      f.path = target->path;
      f.credentials = &creds;
      f.now = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
      policy::PresentedGroupVerifier verifier(t.presenting_group);
      policy::Decision d = interp.decide(f, verifier);
      int status = policy::statusOf(d.outcome);
      std::string group;
      if (d.outcome == policy::Outcome::Allow) {
        const ir::Realm& realm = policy->realms[d.realm];
        const auto& block = realm.blocks[realm.containers[d.container].block];
        group = d.group < 0 ? "default" : block.groups[d.group].name;
      }
      if (status != t.expect_status) {
        failure = "expected " + std::to_string(t.expect_status) + ", got " +
                  std::to_string(status) + ": " + d.reason;
      } else if (!t.expect_group.empty() && group != t.expect_group) {
        failure = "expected group `" + t.expect_group + "`, got `" + group + "`";
      }
    }
    bool ok = failure.empty();
    ok ? ++passed : ++failed;
    std::string where = t.file + ":" + std::to_string(t.line);
    if (input.json) {
      results.push_back({{"test", t.test_name}, {"location", where}, {"passed", ok},
                         {"failure", failure}});
    } else if (!ok) {
      std::cout << "FAIL " << where << ": " << t.test_name << ": " << failure << "\n";
    } else {
      std::cout << "ok   " << where << ": " << t.test_name << "\n";
    }
  }
  if (input.json) {
    std::cout << nlohmann::json{{"passed", passed}, {"failed", failed}, {"results", results}}.dump(2)
              << "\n";
  } else {
    std::cout << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? kExitOk : kExitPolicy;
}

}  // namespace hoody::cli
