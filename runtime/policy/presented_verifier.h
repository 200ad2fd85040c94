// SPDX-License-Identifier: Apache-2.0
// A verifier for policy tests: it accepts the credential of exactly one named
// group, which is what `presenting GROUP` in a `test` block means, so tests
// never need the secrets behind a policy's digests and hashes.
#pragma once

#include <string>
#include <string_view>

#include "runtime/policy/decision.h"

namespace hoody::policy {

class PresentedGroupVerifier final : public Verifier {
 public:
  explicit PresentedGroupVerifier(std::string group) : group_(std::move(group)) {}

  bool verifyPassword(const ir::Group& g, std::string_view, std::string_view) override {
    return !group_.empty() && g.name == group_;
  }
  bool verifyBearer(const ir::Group& g, std::string_view) override {
    return !group_.empty() && g.name == group_;
  }
  bool verifyJwt(const ir::Group& g, const ir::Realm&, std::string_view, int64_t) override {
    return !group_.empty() && g.name == group_;
  }

 private:
  std::string group_;
};

}  // namespace hoody::policy
