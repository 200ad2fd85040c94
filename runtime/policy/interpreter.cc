// SPDX-License-Identifier: Apache-2.0
// Reference interpreter over the decision IR; see interpreter.h for the
// evaluation order that every engine must follow.
#include "runtime/policy/interpreter.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>
#include <string>

#include "runtime/abi/address.h"

namespace hoody::policy {
namespace {

// A keyed 64-bit mix, not a cryptographic hash: the key is random per process
// and every candidate is compared in constant time, so a collision only costs
// one more comparison.
uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t hashPair(const ir::Id96& c, const ir::Id96& p, const uint64_t key[2]) {
  uint64_t words[3] = {};
  std::memcpy(words, c.data(), 12);
  std::memcpy(reinterpret_cast<uint8_t*>(words) + 12, p.data(), 12);
  uint64_t h = key[0];
  for (uint64_t w : words) h = mix(h ^ w ^ key[1]);
  return h;
}

// Evaluation rank of a group: cheap conditions first.
int rank(ir::CredentialKind kind) {
  switch (kind) {
    case ir::CredentialKind::None: return 0;
    case ir::CredentialKind::Bearer: return 1;
    case ir::CredentialKind::Jwt: return 2;
    case ir::CredentialKind::Password: return 3;
  }
  return 4;
}

bool groupCovers(const ir::Group& g, ir::Service s, ir::Method m, std::string_view path) {
  for (const auto& grant : g.grants) {
    if (grantCovers(grant, s, m, path)) return true;
  }
  return false;
}

// Runs the group's credential check against what the request presented.
bool credentialHolds(const ir::Group& g, const ir::Realm& realm, const RequestFacts& f,
                     Verifier& verifier) {
  const Credentials* c = f.credentials;
  switch (g.credential) {
    case ir::CredentialKind::None:
      return true;
    case ir::CredentialKind::Password:
      return c && c->kind == Credentials::Kind::Basic &&
             verifier.verifyPassword(g, c->user, c->password);
    case ir::CredentialKind::Bearer:
      return c && c->kind == Credentials::Kind::Bearer && verifier.verifyBearer(g, c->token);
    case ir::CredentialKind::Jwt:
      return c && c->kind == Credentials::Kind::Bearer &&
             verifier.verifyJwt(g, realm, c->token, f.now);
  }
  return false;
}

uint8_t challengeFor(ir::CredentialKind kind) {
  return kind == ir::CredentialKind::Password ? kChallengeBasic : kChallengeBearer;
}

}  // namespace

bool grantCovers(const ir::Grant& grant, ir::Service service, ir::Method method,
                 std::string_view path) {
  if ((grant.services & ir::bit(service)) == 0) return false;
  if ((grant.methods & ir::bit(method)) == 0) return false;
  if (grant.path_prefixes.empty()) return true;
  for (const auto& prefix : grant.path_prefixes) {
    if (pathHasPrefix(path, prefix)) return true;
  }
  return false;
}

bool ipConditionHolds(const ir::Group& group, const ir::IpAddress& client) {
  return !group.has_ip || net::setContains(group.ip, client);
}

Interpreter::Interpreter(std::shared_ptr<const ir::Policy> policy) : policy_(std::move(policy)) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(hash_key_), sizeof hash_key_) != 1) {
    hash_key_[0] = 0x9e3779b97f4a7c15ULL;
    hash_key_[1] = 0x6a09e667f3bcc909ULL;
  }
  for (size_t r = 0; r < policy_->realms.size(); ++r) {
    const auto& realm = policy_->realms[r];
    for (size_t c = 0; c < realm.containers.size(); ++c) {
      const auto& container = realm.containers[c];
      index_.emplace(hashPair(container.id, container.project_id, hash_key_),
                     std::pair<int, int>(static_cast<int>(r), static_cast<int>(c)));
    }
  }
}

std::pair<int, int> Interpreter::findContainer(const ir::Id96& container,
                                               const ir::Id96& project) const {
  uint8_t wanted[24];
  std::memcpy(wanted, container.data(), 12);
  std::memcpy(wanted + 12, project.data(), 12);
  auto [begin, end] = index_.equal_range(hashPair(container, project, hash_key_));
  std::pair<int, int> found{-1, -1};
  for (auto it = begin; it != end; ++it) {
    const auto& c = policy_->realms[it->second.first].containers[it->second.second];
    uint8_t have[24];
    std::memcpy(have, c.id.data(), 12);
    std::memcpy(have + 12, c.project_id.data(), 12);
    if (CRYPTO_memcmp(have, wanted, sizeof have) == 0) found = it->second;
  }
  return found;
}

Decision Interpreter::decide(const RequestFacts& f, Verifier& verifier) const {
  Decision d;
  auto [r, c] = findContainer(f.host.container, f.host.project);
  if (r < 0) {
    d.outcome = Outcome::NotFound;
    d.reason = "no container has this ID pair";
    return d;
  }
  d.realm = r;
  d.container = c;
  const ir::Realm& realm = policy_->realms[r];
  const ir::Container& container = realm.containers[c];
  if (container.maintenance) {
    d.outcome = Outcome::Maintenance;
    d.reason = "container `" + container.name + "` is in maintenance";
    return d;
  }

  const ir::PermissionBlock& block = realm.blocks[container.block];
  std::string service(ir::serviceName(f.host.service));
  if (block.default_allow & ir::bit(f.host.service)) {
    d.outcome = Outcome::Allow;
    d.reason = "the default of " + block.origin + " allows `" + service + "`";
    return d;
  }

  // Groups by rank, declaration order within a rank. A group is tried only
  // when its grants cover the request and its IP condition is met, so no
  // verifier runs unless its result can change the outcome.
  uint8_t challenges = 0;
  for (int pass = 0; pass < 4; ++pass) {
    for (size_t g = 0; g < block.groups.size(); ++g) {
      const ir::Group& group = block.groups[g];
      if (rank(group.credential) != pass) continue;
      if (!groupCovers(group, f.host.service, f.method, f.path)) continue;
      if (!ipConditionHolds(group, f.client)) continue;
      if (credentialHolds(group, realm, f, verifier)) {
        d.outcome = Outcome::Allow;
        d.group = static_cast<int>(g);
        d.reason = "group `" + group.name + "` of " + block.origin + " grants `" + service + "`";
        return d;
      }
      challenges |= challengeFor(group.credential);
    }
  }

  if (challenges != 0) {
    d.outcome = Outcome::Unauthorized;
    d.challenges = challenges;
    d.reason = std::string("a group of ") + block.origin + " grants `" + service +
               "` with valid credentials, and none were presented or they did not verify";
    return d;
  }
  d.outcome = Outcome::Forbidden;
  d.reason = "no group of " + block.origin + " grants `" + service + "` " +
             std::string(ir::methodName(f.method)) + " " + std::string(f.path) +
             " to this client";
  return d;
}

}  // namespace hoody::policy
