// SPDX-License-Identifier: Apache-2.0
// A straightforward hand-written decision engine, the baseline the JIT must
// beat: a hash map from the container's ID pair to its permission block,
// groups pre-sorted in evaluation order, and service and method mask tests.
//
// It decides like the reference interpreter (outcome, group, challenges and
// verifier calls) but builds no reason text. Unlike the interpreter and the
// JIT it compares IDs with ordinary equality and hashes them without a key:
// it is what one would write without the timing-oracle rules, which makes it
// a fair lower bound for plain C++.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/abi/decision_ir.h"
#include "runtime/policy/decision.h"

namespace hoody::bench {

class BaselineEngine {
 public:
  explicit BaselineEngine(std::shared_ptr<const ir::Policy> policy);

  /// Decides one request; `reason` stays empty.
  policy::Decision decide(const policy::RequestFacts& facts, policy::Verifier& verifier) const;

 private:
  struct Group {
    int index = 0;  ///< Position in the IR block, reported as the granting group.
    const ir::Group* source = nullptr;
  };
  struct Block {
    ir::ServiceSet default_allow = 0;
    std::vector<Group> groups;  ///< Evaluation order: by credential rank, then declaration.
  };
  struct Entry {
    int realm = 0;
    int container = 0;
    bool maintenance = false;
    const Block* block = nullptr;
  };
  using Key = std::array<uint64_t, 3>;
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };

  std::shared_ptr<const ir::Policy> policy_;
  std::vector<std::vector<Block>> blocks_;  ///< Per realm, as in the IR.
  std::unordered_map<Key, Entry, KeyHash> containers_;
};

}  // namespace hoody::bench
