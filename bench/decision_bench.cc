// SPDX-License-Identifier: Apache-2.0
// Decision time of the JIT engine against the reference interpreter, and the
// JIT's compile time, for IP-only groups (no verifier work) at several policy
// sizes.
//
// Policies have projects of 100 containers, and one container in ten has its
// own permissions block. Blocks are copies of 50 templates, so structurally
// equal blocks share generated code, as in a policy that reuses a standard
// block. Every block has 4 groups whose CIDR lists have `ranges`
// entries. Requests cycle over known containers, services and clients inside
// and outside the ranges.
#include <benchmark/benchmark.h>

#include <random>

#include "runtime/abi/address.h"
#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"

namespace {

using namespace hoody;

constexpr int kTemplates = 50;

// Rejects every credential. The benchmark policies have no credential groups.
class NoVerifier final : public policy::Verifier {
 public:
  bool verifyPassword(const ir::Group&, std::string_view, std::string_view) override {
    return false;
  }
  bool verifyBearer(const ir::Group&, std::string_view) override { return false; }
  bool verifyJwt(const ir::Group&, const ir::Realm&, std::string_view, int64_t) override {
    return false;
  }
};

ir::PermissionBlock makeBlock(std::mt19937_64& rng, int ranges) {
  ir::PermissionBlock block;
  block.origin = "block";
  for (int g = 0; g < 4; ++g) {
    ir::Group group;
    group.name = "g" + std::to_string(g);
    group.has_ip = true;
    for (int i = 0; i < ranges; ++i) {
      net::Cidr cidr;
      cidr.network.is_v4 = true;
      cidr.prefix = 24;
      cidr.network.v4 = static_cast<uint32_t>(rng()) & 0xffffff00u;
      net::addToSet(group.ip, cidr);
    }
    group.grants.push_back({ir::bit(static_cast<ir::Service>(g % ir::kServiceCount)) |
                                ir::bit(ir::Service::Http),
                            ir::kAllMethods,
                            {}});
    block.groups.push_back(std::move(group));
  }
  return block;
}

std::shared_ptr<ir::Policy> makePolicy(int containers, int ranges) {
  std::mt19937_64 rng(42);
  std::vector<ir::PermissionBlock> templates;
  for (int t = 0; t < kTemplates; ++t) templates.push_back(makeBlock(rng, ranges));

  ir::Realm realm;
  realm.name = "bench";
  uint32_t project_block = 0;
  ir::Id96 project{};
  for (int i = 0; i < containers; ++i) {
    auto newBlock = [&] {
      realm.blocks.push_back(templates[rng() % templates.size()]);
      return static_cast<uint32_t>(realm.blocks.size() - 1);
    };
    if (i % 100 == 0) {
      for (auto& b : project) b = static_cast<uint8_t>(rng());
      project_block = newBlock();
    }
    ir::Container c;
    c.name = "c" + std::to_string(i);
    for (auto& b : c.id) b = static_cast<uint8_t>(rng());
    c.project_id = project;
    c.block = i % 10 == 9 ? newBlock() : project_block;
    realm.containers.push_back(std::move(c));
  }
  auto policy = std::make_shared<ir::Policy>();
  policy->realms.push_back(std::move(realm));
  return policy;
}

std::vector<policy::RequestFacts> makeRequests(const ir::Policy& policy) {
  std::mt19937_64 rng(7);
  const auto& realm = policy.realms[0];
  std::vector<policy::RequestFacts> requests(1024);
  for (auto& f : requests) {
    const auto& c = realm.containers[rng() % realm.containers.size()];
    f.host = {c.id, c.project_id, static_cast<ir::Service>(rng() % 4), 1};
    const auto& groups = realm.blocks[c.block].groups;
    const auto& ranges = groups[rng() % groups.size()].ip.v4;
    uint32_t inside = ranges[rng() % ranges.size()].first + 7;
    f.client = {true, rng() % 2 ? inside : static_cast<uint32_t>(rng()), {}};
    f.path = "/";
  }
  return requests;
}

void BM_Interpreter(benchmark::State& state) {
  auto policy = makePolicy(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  policy::Interpreter interpreter(policy);
  auto requests = makeRequests(*policy);
  NoVerifier verifier;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(interpreter.decide(requests[i++ % requests.size()], verifier));
  }
}

void runJit(benchmark::State& state, bool with_reason) {
  auto policy = makePolicy(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  auto engine = jit::JitEngine::create(policy);
  if (!engine) {
    state.SkipWithError(engine.error().str().c_str());
    return;
  }
  state.counters["codegen_ms"] = (*engine)->stats().codegen_ms;
  state.counters["jit_ms"] = (*engine)->stats().jit_ms;
  auto requests = makeRequests(*policy);
  NoVerifier verifier;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        (*engine)->decide(requests[i++ % requests.size()], verifier, with_reason));
  }
}

void BM_Jit(benchmark::State& state) { runJit(state, true); }
void BM_JitNoReason(benchmark::State& state) { runJit(state, false); }

void sizes(benchmark::internal::Benchmark* b) {
  for (int containers : {1000, 100000}) {
    for (int ranges : {4, 64}) b->Args({containers, ranges});
  }
}

BENCHMARK(BM_Interpreter)->Apply(sizes);
BENCHMARK(BM_Jit)->Apply(sizes);
BENCHMARK(BM_JitNoReason)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
