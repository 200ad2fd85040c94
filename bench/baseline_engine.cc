// SPDX-License-Identifier: Apache-2.0
// A straightforward hand-written decision engine for the benchmarks.
#include "bench/baseline_engine.h"

#include <algorithm>
#include <cstring>

#include "runtime/policy/interpreter.h"

namespace hoody::bench {
namespace {

int rank(ir::CredentialKind kind) {
  switch (kind) {
    case ir::CredentialKind::None: return 0;
    case ir::CredentialKind::Bearer: return 1;
    case ir::CredentialKind::Jwt: return 2;
    case ir::CredentialKind::Password: return 3;
  }
  return 4;
}

std::array<uint64_t, 3> keyOf(const ir::Id96& container, const ir::Id96& project) {
  std::array<uint64_t, 3> key{};
  std::memcpy(key.data(), container.data(), 12);
  std::memcpy(reinterpret_cast<uint8_t*>(key.data()) + 12, project.data(), 12);
  return key;
}

bool covers(const ir::Group& group, const policy::RequestFacts& f) {
  for (const auto& grant : group.grants) {
    if (policy::grantCovers(grant, f.host.service, f.method, f.path)) return true;
  }
  return false;
}

bool credentialHolds(const ir::Group& g, const ir::Realm& realm, const policy::RequestFacts& f,
                     policy::Verifier& verifier) {
  using Kind = policy::Credentials::Kind;
  const policy::Credentials* c = f.credentials;
  switch (g.credential) {
    case ir::CredentialKind::None: return true;
    case ir::CredentialKind::Password:
      return c && c->kind == Kind::Basic && verifier.verifyPassword(g, c->user, c->password);
    case ir::CredentialKind::Bearer:
      return c && c->kind == Kind::Bearer && verifier.verifyBearer(g, c->token);
    case ir::CredentialKind::Jwt:
      return c && c->kind == Kind::Bearer && verifier.verifyJwt(g, realm, c->token, f.now);
  }
  return false;
}

}  // namespace

size_t BaselineEngine::KeyHash::operator()(const Key& key) const {
  uint64_t h = key[0] * 0x9e3779b97f4a7c15ULL;
  h ^= key[1] + (h >> 29);
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= key[2] + (h >> 31);
  return h * 0x94d049bb133111ebULL;
}

BaselineEngine::BaselineEngine(std::shared_ptr<const ir::Policy> policy)
    : policy_(std::move(policy)) {
  size_t count = 0;
  for (const auto& realm : policy_->realms) count += realm.containers.size();
  containers_.reserve(count);
  for (size_t r = 0; r < policy_->realms.size(); ++r) {
    const ir::Realm& realm = policy_->realms[r];
    std::vector<Block>& blocks = blocks_.emplace_back();
    for (const auto& source : realm.blocks) {
      Block block;
      block.default_allow = source.default_allow;
      for (size_t g = 0; g < source.groups.size(); ++g) {
        block.groups.push_back({static_cast<int>(g), &source.groups[g]});
      }
      std::stable_sort(block.groups.begin(), block.groups.end(), [](const Group& a, const Group& b) {
        return rank(a.source->credential) < rank(b.source->credential);
      });
      blocks.push_back(std::move(block));
    }
    for (size_t c = 0; c < realm.containers.size(); ++c) {
      const ir::Container& container = realm.containers[c];
      containers_[keyOf(container.id, container.project_id)] = {
          static_cast<int>(r), static_cast<int>(c), container.maintenance,
          &blocks[container.block]};
    }
  }
}

policy::Decision BaselineEngine::decide(const policy::RequestFacts& f,
                                        policy::Verifier& verifier) const {
  policy::Decision d;
  auto it = containers_.find(keyOf(f.host.container, f.host.project));
  if (it == containers_.end()) return d;  // NotFound
  const Entry& entry = it->second;
  d.realm = entry.realm;
  d.container = entry.container;
  if (entry.maintenance) {
    d.outcome = policy::Outcome::Maintenance;
    return d;
  }
  const Block& block = *entry.block;
  if (block.default_allow & ir::bit(f.host.service)) {
    d.outcome = policy::Outcome::Allow;
    return d;
  }
  const ir::Realm& realm = policy_->realms[entry.realm];
  uint8_t challenges = 0;
  for (const Group& group : block.groups) {
    const ir::Group& g = *group.source;
    if (!covers(g, f) || !policy::ipConditionHolds(g, f.client)) continue;
    if (credentialHolds(g, realm, f, verifier)) {
      d.outcome = policy::Outcome::Allow;
      d.group = group.index;
      return d;
    }
    challenges |= g.credential == ir::CredentialKind::Password ? policy::kChallengeBasic
                                                               : policy::kChallengeBearer;
  }
  d.outcome = challenges ? policy::Outcome::Unauthorized : policy::Outcome::Forbidden;
  d.challenges = challenges;
  return d;
}

}  // namespace hoody::bench
