// SPDX-License-Identifier: Apache-2.0
// Reload under load, in process: worker threads decide requests through a
// JitEngineSlot while the main thread loads a new bundle, compiles its
// bitcode and swaps the new engine in.
//
//   hoody_reload_bench [--containers N] [--workers N] [--reloads N]
//
// For each reload it measures load-to-swap: reading and verifying the
// bundle, parsing and compiling the bitcode, until JitEngineSlot::store
// returns. It also measures swap-to-first-new-decision, from the store until
// a worker has finished a decision on the new engine, and the workers'
// decision rate before and during the load. Prints one JSON object on stdout. The
// proxy's own reload path (admin socket, SIGHUP) is tested end to end
// elsewhere; this isolates the engine swap.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_policy.h"
#include "compiler/codegen/llvm/decision_codegen.h"
#include "runtime/abi/bundle.h"
#include "runtime/jit/jit_engine.h"

namespace {

using namespace hoody;
using Clock = std::chrono::steady_clock;

struct Options {
  int containers = 100000;
  int workers = 2;
  int reloads = 5;
};

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Writes a bundle of `policy` with its decision bitcode into `dir`.
void writeBundle(const std::string& dir, const ir::Policy& policy) {
  auto bitcode = codegen::emitBitcode(policy);
  if (!bitcode) {
    std::cerr << "hoody_reload_bench: codegen failed: " << bitcode.error().str() << "\n";
    std::exit(1);
  }
  bundle::BundleInfo info;
  info.artifacts.push_back({"decision.bc", std::move(*bitcode), {}});
  auto written = bundle::writeBundle(dir, policy, info);
  if (!written) {
    std::cerr << "hoody_reload_bench: " << written.error().str() << "\n";
    std::exit(1);
  }
}

// The proxy's reload step: load and verify the bundle, compile the bitcode.
std::shared_ptr<const jit::JitEngine> loadEngine(const std::string& dir) {
  auto loaded = bundle::loadBundle(dir);
  if (!loaded) {
    std::cerr << "hoody_reload_bench: cannot load " << dir << ": " << loaded.error().str() << "\n";
    std::exit(1);
  }
  auto bitcode = bundle::loadArtifact(dir, "decision.bc");
  if (!bitcode) {
    std::cerr << "hoody_reload_bench: cannot read decision.bc: " << bitcode.error().str() << "\n";
    std::exit(1);
  }
  auto policy = std::make_shared<const ir::Policy>(std::move(*loaded));
  auto engine = jit::JitEngine::createFromBitcode(*bitcode, policy);
  if (!engine) {
    std::cerr << "hoody_reload_bench: cannot compile " << dir << ": " << engine.error().str()
              << "\n";
    std::exit(1);
  }
  return *engine;
}

struct Shared {
  jit::JitEngineSlot slot;
  std::atomic<bool> stop{false};
  std::atomic<const jit::JitEngine*> target{nullptr};
  std::atomic<int64_t> first_new_ns{0};
  std::vector<std::atomic<uint64_t>> decisions;
  explicit Shared(int workers) : decisions(workers) {}
};

void work(Shared& shared, int index, const bench::Requests& requests) {
  bench::DigestVerifier verifier;
  uint64_t count = 0;
  size_t i = static_cast<size_t>(index) * 7919;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    i = (i + 1) % requests.facts.size();
    std::shared_ptr<const jit::JitEngine> engine = shared.slot.load();
    verifier.present(&requests.token_digests[i]);
    policy::Decision d = engine->decide(requests.facts[i], verifier, false);
    if (engine.get() == shared.target.load(std::memory_order_relaxed) &&
        shared.first_new_ns.load(std::memory_order_relaxed) == 0) {
      int64_t expected = 0;
      shared.first_new_ns.compare_exchange_strong(expected, nowNs());
    }
    count += static_cast<uint64_t>(d.outcome) < 8;
    shared.decisions[index].store(count, std::memory_order_relaxed);
  }
}

uint64_t totalDecisions(const Shared& shared) {
  uint64_t total = 0;
  for (const auto& d : shared.decisions) total += d.load(std::memory_order_relaxed);
  return total;
}

bool parseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (value <= 0) return false;
    if (arg == "--containers") {
      options.containers = value;
    } else if (arg == "--workers") {
      options.workers = value;
    } else if (arg == "--reloads") {
      options.reloads = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parseOptions(argc, argv, options)) {
    std::cerr << "usage: " << argv[0] << " [--containers N] [--workers N] [--reloads N]\n";
    return 2;
  }

  // Two policies of the same shape with different IDs, as bundles on disk.
  bench::Shape shape{options.containers, 1, bench::GroupKind::Ip};
  bench::BenchPolicy first = bench::makePolicy(shape, 42);
  bench::BenchPolicy second = bench::makePolicy(shape, 43);
  auto base = std::filesystem::temp_directory_path() /
              ("hoody-reload-bench-" + std::to_string(getpid()));
  const std::string dirs[2] = {(base / "a").string(), (base / "b").string()};
  writeBundle(dirs[0], *first.policy);
  writeBundle(dirs[1], *second.policy);
  bench::Requests requests;
  bench::makeRequests(first, shape, 65536, 7, requests);

  Shared shared(options.workers);
  shared.slot.store(loadEngine(dirs[0]));
  std::vector<std::thread> threads;
  for (int w = 0; w < options.workers; ++w) {
    threads.emplace_back(work, std::ref(shared), w, std::cref(requests));
  }

  std::vector<double> load_ms, swap_us, idle_rate, loading_rate, release_ms;
  for (int r = 0; r < options.reloads; ++r) {
    // Decision rate with no reload running.
    uint64_t before = totalDecisions(shared);
    auto idle_start = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::chrono::duration<double> idle = Clock::now() - idle_start;
    idle_rate.push_back(static_cast<double>(totalDecisions(shared) - before) / idle.count());

    auto start = Clock::now();
    before = totalDecisions(shared);
    std::shared_ptr<const jit::JitEngine> next = loadEngine(dirs[(r + 1) % 2]);
    shared.first_new_ns.store(0);
    shared.target.store(next.get());
    std::shared_ptr<const jit::JitEngine> previous = shared.slot.load();
    int64_t stored_ns = nowNs();
    shared.slot.store(next);
    auto stored = Clock::now();
    std::chrono::duration<double> loading = stored - start;
    load_ms.push_back(loading.count() * 1000);
    loading_rate.push_back(static_cast<double>(totalDecisions(shared) - before) / loading.count());

    while (shared.first_new_ns.load() == 0) std::this_thread::yield();
    swap_us.push_back(static_cast<double>(shared.first_new_ns.load() - stored_ns) / 1000.0);

    // The old engine is freed when its last reference goes away: here on
    // this thread, once no worker references it any more.
    next.reset();
    while (previous.use_count() > 1) std::this_thread::yield();
    auto release_start = Clock::now();
    previous.reset();
    release_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - release_start).count());
  }
  shared.stop.store(true);
  for (auto& t : threads) t.join();
  std::filesystem::remove_all(base);

  nlohmann::json out = {{"benchmark", "reload"},
                        {"containers", options.containers},
                        {"workers", options.workers},
                        {"reloads", options.reloads},
                        {"load_to_swap_ms_median", median(load_ms)},
                        {"load_to_swap_ms", load_ms},
                        {"swap_to_first_new_decision_us_median", median(swap_us)},
                        {"swap_to_first_new_decision_us", swap_us},
                        {"old_engine_release_ms_median", median(release_ms)},
                        {"decisions_per_second_idle", median(idle_rate)},
                        {"decisions_per_second_while_loading", median(loading_rate)}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
