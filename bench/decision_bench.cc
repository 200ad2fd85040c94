// SPDX-License-Identifier: Apache-2.0
// Decision time per request of the JIT engine, the reference interpreter and
// a hand-written C++ baseline, for IP-only and bearer-digest groups at
// several policy sizes (see bench/bench_policy.h for the policy shape).
//
//   hoody_decision_bench [--quick] [--sizes 10,1000,100000] [--only TEXT]
//                        [--export-cedar DIR]
//
// Prints one JSON object on stdout and progress on stderr. Before timing,
// every engine decides every request and must agree with the interpreter;
// a disagreement ends the run with exit status 1.
//
// Each engine decides the same 65,536 requests once to warm up, then in 11
// timed rounds. The result is the median (and the range) of the rounds' mean
// thread CPU time per decision. The requests name containers uniformly, so at
// 100,000 containers the lookup tables stay in the last-level cache at best.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench/baseline_engine.h"
#include "bench/bench_policy.h"
#include "bench/cedar_export.h"
#include "runtime/auth/auth.h"
#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"

namespace {

using namespace hoody;
using Clock = std::chrono::steady_clock;

struct Options {
  bool quick = false;
  std::vector<int> sizes = {10, 1000, 100000};
  std::string export_dir;
  std::string only;  ///< Run only cases whose label contains this text.
  std::string engines = "interpreter,jit,jit_no_reason,baseline";
};

struct Timing {
  double median_ns = 0;
  double min_ns = 0;
  double max_ns = 0;
  int rounds = 0;
};

// Keeps the decisions observable so the compiler cannot drop the calls.
volatile uint64_t g_sink = 0;

uint64_t digestOf(const policy::Decision& d) {
  return static_cast<uint64_t>(d.outcome) * 64 + static_cast<uint64_t>(d.group + 1) +
         d.challenges;
}

// CPU time of the calling thread in nanoseconds. Other processes on the
// machine take wall-clock time from a round but not CPU time, although they
// still compete for the shared cache.
double threadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <typename Decide>
Timing timeDecisions(size_t count, int rounds, Decide&& decide) {
  uint64_t checksum = 0;
  for (size_t i = 0; i < count; ++i) checksum += decide(i);
  std::vector<double> per_round;
  for (int r = 0; r < rounds; ++r) {
    double start = threadCpuNs();
    for (size_t i = 0; i < count; ++i) checksum += decide(i);
    per_round.push_back((threadCpuNs() - start) / static_cast<double>(count));
  }
  g_sink = g_sink + checksum;
  std::sort(per_round.begin(), per_round.end());
  return {per_round[per_round.size() / 2], per_round.front(), per_round.back(), rounds};
}

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Checks that the JIT and the baseline decide every request as the
// interpreter does. Returns a description of the first difference.
std::string checkAgreement(const policy::Interpreter& interpreter, const jit::JitEngine& jit,
                           const bench::BaselineEngine& baseline, const bench::Requests& requests,
                           bench::DigestVerifier& verifier) {
  for (size_t i = 0; i < requests.facts.size(); ++i) {
    verifier.present(&requests.token_digests[i]);
    policy::Decision expected = interpreter.decide(requests.facts[i], verifier);
    policy::Decision jitted = jit.decide(requests.facts[i], verifier);
    policy::Decision hand = baseline.decide(requests.facts[i], verifier);
    auto same = [&](const policy::Decision& d) {
      return d.outcome == expected.outcome && d.realm == expected.realm &&
             d.container == expected.container && d.group == expected.group &&
             d.challenges == expected.challenges;
    };
    if (!same(jitted) || jitted.reason != expected.reason) {
      return "request " + std::to_string(i) + ": the JIT decided `" + jitted.reason +
             "`, the interpreter `" + expected.reason + "`";
    }
    if (!same(hand)) {
      return "request " + std::to_string(i) + ": the baseline decided " +
             std::string(policy::outcomeName(hand.outcome)) + " group " +
             std::to_string(hand.group) + ", the interpreter `" + expected.reason + "`";
    }
  }
  return {};
}

nlohmann::json timingJson(const std::string& engine, const std::string& verifier,
                          const Timing& t) {
  return {{"engine", engine},      {"verifier", verifier}, {"median_ns", t.median_ns},
          {"min_ns", t.min_ns},    {"max_ns", t.max_ns},   {"rounds", t.rounds}};
}

// Builds, checks and times one policy shape.
nlohmann::json runCase(const bench::Shape& shape, const Options& options) {
  const std::string label = bench::shapeLabel(shape);
  const size_t request_count = options.quick ? 4096 : 65536;
  const int rounds = options.quick ? 3 : 11;
  std::cerr << label << ": building the policy\n";

  auto start = Clock::now();
  bench::BenchPolicy policy = bench::makePolicy(shape, 42);
  double policy_ms = millisecondsSince(start);
  bench::Requests requests;
  bench::makeRequests(policy, shape, request_count, 7, requests);

  policy::Interpreter interpreter(policy.policy);
  bench::BaselineEngine baseline(policy.policy);
  double create_cpu_start = threadCpuNs();
  auto engine = jit::JitEngine::create(policy.policy);
  double create_cpu_ms = (threadCpuNs() - create_cpu_start) / 1e6;
  if (!engine) {
    std::cerr << label << ": the JIT engine failed: " << engine.error().str() << "\n";
    std::exit(1);
  }
  const jit::JitEngine& jit = **engine;

  bench::DigestVerifier digests;
  std::string difference = checkAgreement(interpreter, jit, baseline, requests, digests);
  if (!difference.empty()) {
    std::cerr << label << ": engines disagree: " << difference << "\n";
    std::exit(1);
  }
  if (!options.export_dir.empty()) {
    auto written = bench::exportCedarCase(options.export_dir, label, policy, requests, interpreter);
    if (!written.empty()) {
      std::cerr << label << ": " << written << "\n";
      std::exit(1);
    }
  }

  std::cerr << label << ": timing\n";
  const auto& facts = requests.facts;
  const auto& tokens = requests.token_digests;
  nlohmann::json results = nlohmann::json::array();
  auto selected = [&](const char* engine) {
    std::string list = "," + options.engines + ",";
    return list.find("," + std::string(engine) + ",") != std::string::npos;
  };
  if (selected("interpreter")) results.push_back(timingJson("interpreter", "digest", timeDecisions(facts.size(), rounds, [&](size_t i) {
    digests.present(&tokens[i]);
    return digestOf(interpreter.decide(facts[i], digests));
  })));
  if (selected("jit")) results.push_back(timingJson("jit", "digest", timeDecisions(facts.size(), rounds, [&](size_t i) {
    digests.present(&tokens[i]);
    return digestOf(jit.decide(facts[i], digests, true));
  })));
  if (selected("jit_no_reason")) results.push_back(timingJson("jit_no_reason", "digest", timeDecisions(facts.size(), rounds, [&](size_t i) {
    digests.present(&tokens[i]);
    return digestOf(jit.decide(facts[i], digests, false));
  })));
  if (selected("baseline")) results.push_back(timingJson("baseline", "digest", timeDecisions(facts.size(), rounds, [&](size_t i) {
    digests.present(&tokens[i]);
    return digestOf(baseline.decide(facts[i], digests));
  })));

  // The runtime verifier hashes the presented token with SHA-256 once per
  // request and compares the digest with each bearer group's.
  if (shape.kind == bench::GroupKind::Bearer) {
    auth::CachingVerifier runtime;
    if (selected("interpreter")) results.push_back(timingJson("interpreter", "runtime", timeDecisions(facts.size(), rounds, [&](size_t i) {
      return digestOf(interpreter.decide(facts[i], runtime));
    })));
    if (selected("jit_no_reason")) results.push_back(timingJson("jit_no_reason", "runtime", timeDecisions(facts.size(), rounds, [&](size_t i) {
      return digestOf(jit.decide(facts[i], runtime, false));
    })));
    if (selected("baseline")) results.push_back(timingJson("baseline", "runtime", timeDecisions(facts.size(), rounds, [&](size_t i) {
      return digestOf(baseline.decide(facts[i], runtime));
    })));
  }

  return {{"case", label},
          {"groups", shape.kind == bench::GroupKind::Ip ? "ip" : "bearer"},
          {"containers", shape.containers},
          {"ranges", shape.kind == bench::GroupKind::Ip ? shape.ranges : 0},
          {"blocks", policy.policy->realms[0].blocks.size()},
          {"requests", facts.size()},
          {"policy_build_ms", policy_ms},
          {"codegen_ms", jit.stats().codegen_ms},
          {"jit_ms", jit.stats().jit_ms},
          {"engine_create_cpu_ms", create_cpu_ms},
          {"results", results}};
}

bool parseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--sizes" && i + 1 < argc) {
      options.sizes.clear();
      std::stringstream list(argv[++i]);
      std::string item;
      while (std::getline(list, item, ',')) options.sizes.push_back(std::atoi(item.c_str()));
    } else if (arg == "--export-cedar" && i + 1 < argc) {
      options.export_dir = argv[++i];
    } else if (arg == "--only" && i + 1 < argc) {
      options.only = argv[++i];
    } else if (arg == "--engines" && i + 1 < argc) {
      options.engines = argv[++i];
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--quick] [--sizes N,N,...] [--only TEXT] [--engines LIST]\n"
                   "       [--export-cedar DIR]\n"
                   "  --quick         4,096 requests and 3 rounds instead of 65,536 and 11\n"
                   "  --sizes         container counts to run (default 10,1000,100000)\n"
                   "  --only          run only the cases whose label contains TEXT,\n"
                   "                  for example ip/100000c/1r\n"
                   "  --engines       engines to time, from interpreter,jit,jit_no_reason,baseline\n"
                   "                  (default all)\n"
                   "  --export-cedar  also write each case's policy and requests as JSON\n"
                   "                  for bench/cedar/bench.mjs into DIR\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parseOptions(argc, argv, options)) return 2;
  if (!options.export_dir.empty()) std::filesystem::create_directories(options.export_dir);

  nlohmann::json cases = nlohmann::json::array();
  for (int containers : options.sizes) {
    for (bench::Shape shape : {bench::Shape{containers, 1, bench::GroupKind::Ip},
                               bench::Shape{containers, 1000, bench::GroupKind::Ip},
                               bench::Shape{containers, 1, bench::GroupKind::Bearer}}) {
      if (bench::shapeLabel(shape).find(options.only) == std::string::npos) continue;
      cases.push_back(runCase(shape, options));
    }
  }
  std::cout << nlohmann::json{{"benchmark", "decision"}, {"cases", cases}}.dump(2) << "\n";
  return 0;
}
