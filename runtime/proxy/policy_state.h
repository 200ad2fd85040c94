// SPDX-License-Identifier: Apache-2.0
// The policy a worker decides with, swapped as a whole on reload.
//
// Workers copy the shared pointer once per request, so a request that started
// on one snapshot finishes on it even if a reload happens meanwhile.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "runtime/abi/decision_ir.h"
#include "runtime/policy/interpreter.h"
#include "runtime/tls/context.h"

namespace hoody::proxy {

struct PolicySnapshot {
  PolicySnapshot(std::shared_ptr<const ir::Policy> p, tls::ContextPtr ctx)
      : policy(p), interpreter(std::move(p)), tls(std::move(ctx)) {}

  std::shared_ptr<const ir::Policy> policy;
  policy::Interpreter interpreter;
  tls::ContextPtr tls;  ///< Server certificate for the policy's node and domain.
};

class PolicyHolder {
 public:
  std::shared_ptr<const PolicySnapshot> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const PolicySnapshot> next) {
    std::lock_guard<std::mutex> lock(mutex_);
    current_.swap(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicySnapshot> current_;
};

}  // namespace hoody::proxy
