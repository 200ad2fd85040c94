// SPDX-License-Identifier: Apache-2.0
// Policies, requests and verifiers shared by the decision benchmarks.
#include "bench/bench_policy.h"

#include <random>

#include "runtime/abi/address.h"

namespace hoody::bench {
namespace {

// Operator surface granted by group g, next to http.
constexpr ir::Service kGroupSurfaces[kGroupsPerBlock] = {
    ir::Service::Terminal, ir::Service::Files, ir::Service::Sqlite, ir::Service::Display};
// Surfaces requests ask for besides http; `code` is granted by no group.
constexpr ir::Service kRequestSurfaces[] = {ir::Service::Terminal, ir::Service::Files,
                                            ir::Service::Sqlite, ir::Service::Display,
                                            ir::Service::Code};

ir::Group makeGroup(std::mt19937_64& rng, const Shape& shape, int template_index, int index) {
  ir::Group g;
  g.name = "t" + std::to_string(template_index) + "g" + std::to_string(index);
  if (shape.kind == GroupKind::Ip) {
    g.has_ip = true;
    // Random /24 networks rarely touch, so the set keeps `ranges` entries.
    while (static_cast<int>(g.ip.v4.size()) < shape.ranges) {
      net::Cidr cidr;
      cidr.network.is_v4 = true;
      cidr.prefix = 24;
      cidr.network.v4 = static_cast<uint32_t>(rng()) & 0xffffff00u;
      net::addToSet(g.ip, cidr);
    }
  } else {
    g.credential = ir::CredentialKind::Bearer;
    g.bearer_sha256.push_back(auth::sha256(bearerToken(g.name)));
  }
  g.grants.push_back({ir::bit(ir::Service::Http) | ir::bit(kGroupSurfaces[index]),
                      ir::kAllMethods,
                      {}});
  return g;
}

void randomId(std::mt19937_64& rng, ir::Id96& id) {
  for (auto& byte : id) byte = static_cast<uint8_t>(rng());
}

}  // namespace

std::string shapeLabel(const Shape& shape) {
  std::string label = shape.kind == GroupKind::Ip ? "ip/" : "bearer/";
  label += std::to_string(shape.containers) + "c";
  if (shape.kind == GroupKind::Ip) label += "/" + std::to_string(shape.ranges) + "r";
  return label;
}

std::string bearerToken(std::string_view group_name) {
  return "bench-token-" + std::string(group_name);
}

BenchPolicy makePolicy(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  BenchPolicy out;
  for (int t = 0; t < kTemplates; ++t) {
    ir::PermissionBlock block;
    block.origin = "template t" + std::to_string(t);
    for (int g = 0; g < kGroupsPerBlock; ++g) block.groups.push_back(makeGroup(rng, shape, t, g));
    out.templates.push_back(std::move(block));
  }

  ir::Realm realm;
  realm.name = "bench";
  realm.containers.reserve(shape.containers);
  auto newBlock = [&](std::string origin) {
    int t = static_cast<int>(rng() % kTemplates);
    realm.blocks.push_back(out.templates[t]);
    realm.blocks.back().origin = std::move(origin);
    out.block_template.push_back(t);
    return static_cast<uint32_t>(realm.blocks.size() - 1);
  };
  uint32_t project_block = 0;
  ir::Id96 project{};
  std::string project_name;
  for (int i = 0; i < shape.containers; ++i) {
    if (i % kProjectSize == 0) {
      randomId(rng, project);
      project_name = "p" + std::to_string(i / kProjectSize);
      project_block = newBlock("project " + project_name);
    }
    ir::Container c;
    c.name = "c" + std::to_string(i);
    c.project = project_name;
    randomId(rng, c.id);
    c.project_id = project;
    c.block = i % kOwnBlockEvery == kOwnBlockEvery - 1 ? newBlock("container " + c.name)
                                                       : project_block;
    realm.containers.push_back(std::move(c));
  }
  out.policy = std::make_shared<ir::Policy>();
  out.policy->realms.push_back(std::move(realm));
  return out;
}

void makeRequests(const BenchPolicy& policy, const Shape& shape, size_t count, uint64_t seed,
                  Requests& out) {
  std::mt19937_64 rng(seed);
  const ir::Realm& realm = policy.policy->realms[0];
  out.facts.assign(count, {});
  out.credentials.assign(count, {});
  out.token_digests.assign(count, {});
  for (size_t i = 0; i < count; ++i) {
    policy::RequestFacts& f = out.facts[i];
    const ir::PermissionBlock* block = nullptr;
    if (rng() % 100 < 5 || realm.containers.empty()) {
      randomId(rng, f.host.container);
      randomId(rng, f.host.project);
    } else {
      const ir::Container& c = realm.containers[rng() % realm.containers.size()];
      f.host.container = c.id;
      f.host.project = c.project_id;
      block = &realm.blocks[c.block];
    }
    f.host.service = rng() % 2 == 0 ? ir::Service::Http
                                    : kRequestSurfaces[rng() % std::size(kRequestSurfaces)];
    f.method = rng() % 5 == 0 ? ir::Method::Post : ir::Method::Get;
    f.path = "/";
    f.now = 1700000000;
    f.client.is_v4 = true;
    f.client.v4 = static_cast<uint32_t>(rng());

    const ir::Group* group = block ? &block->groups[rng() % block->groups.size()] : nullptr;
    if (shape.kind == GroupKind::Ip) {
      if (group && rng() % 2 == 0) {
        const ir::V4Range& r = group->ip.v4[rng() % group->ip.v4.size()];
        f.client.v4 = r.first + static_cast<uint32_t>(rng() % (uint64_t{r.last - r.first} + 1));
      }
      continue;
    }
    uint64_t pick = rng() % 100;
    if (pick < 10) continue;
    policy::Credentials& c = out.credentials[i];
    c.kind = policy::Credentials::Kind::Bearer;
    c.token = pick < 55 && group ? bearerToken(group->name) : "bench-token-wrong";
    out.token_digests[i] = auth::sha256(c.token);
    f.credentials = &c;
  }
}

bool DigestVerifier::verifyBearer(const ir::Group& group, std::string_view token) {
  if (presented_ == nullptr || token.empty()) return false;
  bool match = false;
  for (const auto& stored : group.bearer_sha256) {
    // Every digest is compared, as the runtime verifier does.
    match = auth::digestEqual(*presented_, stored) || match;
  }
  return match;
}

}  // namespace hoody::bench
