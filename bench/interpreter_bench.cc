// SPDX-License-Identifier: Apache-2.0
// Decision time of the reference interpreter for IP-only and bearer-digest
// groups (no KDF or signature work), at several policy sizes.
//
// Policies have projects of 100 containers; one container in ten has its own
// permissions block; every block has 4 groups with CIDR lists of `ranges`
// entries. Requests cycle over known containers with clients inside and
// outside the ranges.
#include <benchmark/benchmark.h>

#include <random>

#include "runtime/abi/address.h"
#include "runtime/auth/auth.h"
#include "runtime/policy/interpreter.h"

namespace {

using namespace hoody;

ir::Group makeGroup(std::mt19937_64& rng, int index, int ranges, bool bearer) {
  ir::Group g;
  g.name = "g" + std::to_string(index);
  g.has_ip = !bearer;
  for (int i = 0; i < ranges && !bearer; ++i) {
    net::Cidr c;
    c.network.is_v4 = true;
    c.prefix = 24;
    c.network.v4 = static_cast<uint32_t>(rng()) & 0xffffff00u;
    net::addToSet(g.ip, c);
  }
  if (bearer) {
    g.credential = ir::CredentialKind::Bearer;
    g.bearer_sha256.push_back(auth::sha256("token-" + std::to_string(index)));
  }
  g.grants.push_back({ir::bit(static_cast<ir::Service>(index % ir::kServiceCount)) |
                          ir::bit(ir::Service::Http),
                      ir::kAllMethods,
                      {}});
  return g;
}

std::shared_ptr<ir::Policy> makePolicy(int containers, int ranges, bool bearer) {
  std::mt19937_64 rng(42);
  ir::Realm realm;
  realm.name = "bench";
  auto newBlock = [&]() {
    ir::PermissionBlock b;
    b.origin = "block";
    for (int g = 0; g < 4; ++g) b.groups.push_back(makeGroup(rng, g, ranges, bearer));
    realm.blocks.push_back(std::move(b));
    return static_cast<uint32_t>(realm.blocks.size() - 1);
  };
  uint32_t project_block = 0;
  for (int i = 0; i < containers; ++i) {
    if (i % 100 == 0) project_block = newBlock();
    ir::Container c;
    c.name = "c" + std::to_string(i);
    for (auto& b : c.id) b = static_cast<uint8_t>(rng());
    c.project_id.fill(static_cast<uint8_t>(i / 100));
    c.block = i % 10 == 9 ? newBlock() : project_block;
    realm.containers.push_back(c);
  }
  auto p = std::make_shared<ir::Policy>();
  p->realms.push_back(std::move(realm));
  return p;
}

void runDecisions(benchmark::State& state, bool bearer) {
  int containers = static_cast<int>(state.range(0));
  int ranges = static_cast<int>(state.range(1));
  auto policy = makePolicy(containers, ranges, bearer);
  policy::Interpreter interp(policy);
  auth::CachingVerifier verifier;
  std::mt19937_64 rng(7);
  std::vector<policy::RequestFacts> requests(1024);
  std::vector<policy::Credentials> creds(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& c = policy->realms[0].containers[rng() % containers];
    requests[i].host = {c.id, c.project_id, ir::Service::Http, 1};
    requests[i].client.v4 = static_cast<uint32_t>(rng());
    if (bearer) {
      creds[i].kind = policy::Credentials::Kind::Bearer;
      creds[i].token = "token-" + std::to_string(rng() % 5);
    }
    requests[i].credentials = &creds[i];
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(interp.decide(requests[i++ & 1023], verifier));
  }
}

void BM_InterpreterIpGroups(benchmark::State& state) { runDecisions(state, false); }
void BM_InterpreterBearerGroups(benchmark::State& state) { runDecisions(state, true); }

BENCHMARK(BM_InterpreterIpGroups)->ArgsProduct({{10, 1000, 100000}, {1, 1000}});
BENCHMARK(BM_InterpreterBearerGroups)->ArgsProduct({{10, 1000, 100000}, {1}});

}  // namespace

BENCHMARK_MAIN();
