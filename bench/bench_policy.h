// SPDX-License-Identifier: Apache-2.0
// Policies, requests and verifiers shared by the decision benchmarks.
//
// A benchmark policy has one realm with projects of 100 containers. Every
// project has a permissions block, and one container in ten has its own.
// Every block is a copy of one of 50 templates, as when operators reuse a
// standard block; structurally equal blocks share generated code. A block
// has 4 groups: either IP-only groups with CIDR lists of `ranges` IPv4 /24
// networks, or bearer-only groups with one SHA-256 token digest each.
// Group g grants `http` plus one operator surface (terminal, files, sqlite,
// display) for every method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/decision_ir.h"
#include "runtime/auth/auth.h"
#include "runtime/policy/decision.h"

namespace hoody::bench {

inline constexpr int kProjectSize = 100;
inline constexpr int kOwnBlockEvery = 10;
inline constexpr int kGroupsPerBlock = 4;
inline constexpr int kTemplates = 50;

enum class GroupKind : uint8_t { Ip, Bearer };

struct Shape {
  int containers = 1000;
  int ranges = 1;  ///< CIDR ranges per IP group; ignored for bearer groups.
  GroupKind kind = GroupKind::Ip;
};

/// Short label such as "ip/1000c/1r" or "bearer/1000c".
std::string shapeLabel(const Shape& shape);

struct BenchPolicy {
  std::shared_ptr<ir::Policy> policy;
  std::vector<ir::PermissionBlock> templates;
  /// Template each block of realm 0 was copied from.
  std::vector<int> block_template;
};

/// Builds the policy of `shape`; the same seed gives the same policy.
BenchPolicy makePolicy(const Shape& shape, uint64_t seed);

/// The bearer token whose digest group `group_name` stores.
std::string bearerToken(std::string_view group_name);

/// Requests with their credentials. `facts[i].credentials` points into
/// `credentials`, so the struct must not be copied after it is built.
struct Requests {
  std::vector<policy::RequestFacts> facts;
  std::vector<policy::Credentials> credentials;
  /// SHA-256 of the presented bearer token, all zero without one.
  std::vector<auth::Digest> token_digests;

  Requests() = default;
  Requests(const Requests&) = delete;
  Requests& operator=(const Requests&) = delete;
};

/// Draws `count` requests: 95% name a known container (uniformly), 5% a
/// random ID pair. Half ask for `http`, the rest for one of five operator
/// surfaces. With IP groups, half the clients lie in a range of one of the
/// container's groups. With bearer groups, 45% present the token of one of
/// the container's groups, 45% a wrong token and 10% none.
void makeRequests(const BenchPolicy& policy, const Shape& shape, size_t count, uint64_t seed,
                  Requests& out);

/// Bearer verifier whose check is the runtime's constant-time digest
/// comparison (auth::digestEqual) of a digest computed before the request.
/// Call present() before each decision; password and JWT checks fail.
class DigestVerifier final : public policy::Verifier {
 public:
  void present(const auth::Digest* digest) { presented_ = digest; }

  bool verifyPassword(const ir::Group&, std::string_view, std::string_view) override {
    return false;
  }
  bool verifyBearer(const ir::Group& group, std::string_view token) override;
  bool verifyJwt(const ir::Group&, const ir::Realm&, std::string_view, int64_t) override {
    return false;
  }

 private:
  const auth::Digest* presented_ = nullptr;
};

}  // namespace hoody::bench
