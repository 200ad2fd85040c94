// SPDX-License-Identifier: Apache-2.0
// Loads a bundle the way the proxy does and compiles its decision bitcode,
// reporting the time of each step. bench/run.sh runs it under
// `/usr/bin/time -v` for the peak memory of the JIT load.
//
//   hoody_load_bundle BUNDLE_DIR
//   hoody_load_bundle --generate CONTAINERS BUNDLE_DIR
//
// The first form prints one JSON object: bundle load and verification,
// bitcode parsing, JIT compilation, and one decision for the first container
// as a check that the compiled code runs. The second writes a bundle of the
// decision benchmark's IP-only policy (bench/bench_policy.h) with its
// bitcode, in a process of its own so the load's peak memory stays apart.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/bench_policy.h"
#include "compiler/codegen/llvm/decision_codegen.h"
#include "runtime/abi/bundle.h"
#include "runtime/jit/jit_engine.h"

namespace {

using namespace hoody;
using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Rejects every credential; the check decision presents none.
class NoCredentials final : public policy::Verifier {
 public:
  bool verifyPassword(const ir::Group&, std::string_view, std::string_view) override {
    return false;
  }
  bool verifyBearer(const ir::Group&, std::string_view) override { return false; }
  bool verifyJwt(const ir::Group&, const ir::Realm&, std::string_view, int64_t) override {
    return false;
  }
};

int generate(int containers, const std::string& dir) {
  bench::BenchPolicy policy =
      bench::makePolicy({containers, 1, bench::GroupKind::Ip}, /*seed=*/42);
  auto bitcode = codegen::emitBitcode(*policy.policy);
  if (!bitcode) {
    std::cerr << "hoody_load_bundle: codegen failed: " << bitcode.error().str() << "\n";
    return 1;
  }
  bundle::BundleInfo info;
  info.artifacts.push_back({"decision.bc", std::move(*bitcode), {}});
  auto written = bundle::writeBundle(dir, *policy.policy, info);
  if (!written) {
    std::cerr << "hoody_load_bundle: " << written.error().str() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--generate" && std::atoi(argv[2]) > 0) {
    return generate(std::atoi(argv[2]), argv[3]);
  }
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " BUNDLE_DIR\n"
              << "       " << argv[0] << " --generate CONTAINERS BUNDLE_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  auto start = Clock::now();
  auto loaded = bundle::loadBundle(dir);
  if (!loaded) {
    std::cerr << "hoody_load_bundle: cannot load " << dir << ": " << loaded.error().str() << "\n";
    return 1;
  }
  auto policy = std::make_shared<const ir::Policy>(std::move(*loaded));
  auto bitcode = bundle::loadArtifact(dir, "decision.bc");
  if (!bitcode) {
    std::cerr << "hoody_load_bundle: cannot read decision.bc: " << bitcode.error().str() << "\n";
    return 1;
  }
  double load_ms = millisecondsSince(start);

  auto engine = jit::JitEngine::createFromBitcode(*bitcode, policy);
  if (!engine) {
    std::cerr << "hoody_load_bundle: cannot compile decision.bc: " << engine.error().str()
              << "\n";
    return 1;
  }
  double total_ms = millisecondsSince(start);

  size_t containers = 0;
  for (const auto& realm : policy->realms) containers += realm.containers.size();
  std::string outcome = "none";
  if (!policy->realms.empty() && !policy->realms[0].containers.empty()) {
    policy::RequestFacts facts;
    facts.host.container = policy->realms[0].containers[0].id;
    facts.host.project = policy->realms[0].containers[0].project_id;
    NoCredentials verifier;
    outcome = policy::outcomeName((*engine)->decide(facts, verifier).outcome);
  }

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = {{"bundle", dir},
                        {"containers", containers},
                        {"bitcode_bytes", bitcode->size()},
                        {"bundle_load_ms", load_ms},
                        {"bitcode_parse_ms", (*engine)->stats().codegen_ms},
                        {"jit_ms", (*engine)->stats().jit_ms},
                        {"total_ms", total_ms},
                        {"max_rss_kib", usage.ru_maxrss},
                        {"first_container_outcome", outcome}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
