// SPDX-License-Identifier: Apache-2.0
// Reference interpreter over the decision IR.
//
// It defines the semantics every other engine must match: for the same
// policy and request facts it returns the same outcome and granting group.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/abi/decision_ir.h"
#include "runtime/policy/decision.h"

namespace hoody::policy {

class Interpreter {
 public:
  explicit Interpreter(std::shared_ptr<const ir::Policy> policy);

  /// Decides one request. Evaluation order: container lookup (404), then
  /// maintenance (503), then the default, then groups in the order
  /// ip-only, bearer, JWT, password (declaration order within each kind),
  /// calling a verifier only for a group whose IP condition is met and whose
  /// grants cover the service, method and path. The first group that passes
  /// is the granting group. Denied requests get 401 when some credential
  /// group would grant the request, else 403.
  Decision decide(const RequestFacts& facts, Verifier& verifier) const;

  const ir::Policy& policy() const { return *policy_; }
  const std::shared_ptr<const ir::Policy>& shared() const { return policy_; }

  /// Finds a container by its ID pair with a constant-time comparison of the
  /// candidate key. Returns {realm, container} or {-1, -1}.
  std::pair<int, int> findContainer(const ir::Id96& container, const ir::Id96& project) const;

 private:
  std::shared_ptr<const ir::Policy> policy_;
  // Hash of the 24-byte ID pair -> candidates (realm, container).
  std::unordered_multimap<uint64_t, std::pair<int, int>> index_;
  uint64_t hash_key_[2];
};

/// Returns true when `grant` covers the service, method and path.
bool grantCovers(const ir::Grant& grant, ir::Service service, ir::Method method,
                 std::string_view path);

/// Returns true when the group's IP condition (if any) holds for `client`.
bool ipConditionHolds(const ir::Group& group, const ir::IpAddress& client);

}  // namespace hoody::policy
