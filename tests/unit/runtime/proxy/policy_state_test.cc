// SPDX-License-Identifier: Apache-2.0
// Tests of policy snapshots: the engine choice, reason text, the swap of JIT
// engines through the policy holder while other threads decide, and the
// background release of replaced snapshots.
#include "runtime/proxy/policy_state.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/abi/address.h"
#include "runtime/jit/jit_engine.h"

namespace hoody::proxy {
namespace {

using namespace std::chrono_literals;

constexpr uint8_t kSharedTag = 0x11;    // Container in both policies.
constexpr uint8_t kBetaOnlyTag = 0x22;  // Container only in the beta policy.

ir::Id96 id(uint8_t tag) {
  ir::Id96 v{};
  v.fill(tag);
  return v;
}

ir::Container container(std::string name, uint8_t tag, uint32_t block) {
  ir::Container c;
  c.name = std::move(name);
  c.id = id(tag);
  c.project_id = id(0x90);
  c.block = block;
  return c;
}

// Realm `alpha`: the shared container allows http by default.
std::shared_ptr<const ir::Policy> alphaPolicy() {
  ir::PermissionBlock open;
  open.origin = "container api";
  open.default_allow = ir::bit(ir::Service::Http);
  ir::Realm realm;
  realm.name = "alpha";
  realm.blocks = {open};
  realm.containers.push_back(container("api", kSharedTag, 0));
  auto policy = std::make_shared<ir::Policy>();
  policy->realms = {realm};
  return policy;
}

// Realm `beta`: the shared container needs a bearer token for http, and a
// second container allows http by default.
std::shared_ptr<const ir::Policy> betaPolicy() {
  ir::PermissionBlock locked;
  locked.origin = "container api";
  ir::Group monitoring;
  monitoring.name = "monitoring";
  monitoring.credential = ir::CredentialKind::Bearer;
  monitoring.grants.push_back({ir::bit(ir::Service::Http), ir::kAllMethods, {}});
  locked.groups.push_back(monitoring);
  ir::PermissionBlock open;
  open.origin = "container added";
  open.default_allow = ir::bit(ir::Service::Http);
  ir::Realm realm;
  realm.name = "beta";
  realm.blocks = {locked, open};
  realm.containers.push_back(container("api", kSharedTag, 0));
  realm.containers.push_back(container("added", kBetaOnlyTag, 1));
  auto policy = std::make_shared<ir::Policy>();
  policy->realms = {realm};
  return policy;
}

policy::RequestFacts request(uint8_t tag) {
  policy::RequestFacts f;
  f.host.container = id(tag);
  f.host.project = id(0x90);
  f.host.service = ir::Service::Http;
  f.client = *net::parseAddress("198.51.100.7");
  f.path = "/";
  f.now = 1700000000;
  return f;
}

// Rejects every credential and counts the calls.
class RejectingVerifier : public policy::Verifier {
 public:
  bool verifyPassword(const ir::Group&, std::string_view, std::string_view) override {
    ++calls;
    return false;
  }
  bool verifyBearer(const ir::Group&, std::string_view) override {
    ++calls;
    return false;
  }
  bool verifyJwt(const ir::Group&, const ir::Realm&, std::string_view, int64_t) override {
    ++calls;
    return false;
  }
  int calls = 0;
};

std::shared_ptr<const PolicySnapshot> jitSnapshot(std::shared_ptr<const ir::Policy> policy) {
  Result<std::shared_ptr<jit::JitEngine>> engine = jit::JitEngine::create(std::move(policy));
  if (!engine) {
    ADD_FAILURE() << engine.error().str();
    return nullptr;
  }
  return std::make_shared<const PolicySnapshot>(std::shared_ptr<const jit::JitEngine>(*engine),
                                                nullptr);
}

// The outcome each policy gives a request for `tag` without credentials.
policy::Outcome expectedOutcome(const ir::Policy& policy, uint8_t tag) {
  bool beta = policy.realms[0].name == "beta";
  if (tag == kBetaOnlyTag) return beta ? policy::Outcome::Allow : policy::Outcome::NotFound;
  return beta ? policy::Outcome::Unauthorized : policy::Outcome::Allow;
}

TEST(PolicySnapshotTest, JitSnapshotSharesPolicyWithInterpreter) {
  std::shared_ptr<const PolicySnapshot> snapshot = jitSnapshot(betaPolicy());
  ASSERT_NE(snapshot, nullptr);
  ASSERT_NE(snapshot->engine, nullptr);
  EXPECT_EQ(snapshot->policy.get(), &snapshot->engine->policy());
  EXPECT_EQ(snapshot->policy.get(), &snapshot->interpreter.policy());
}

TEST(PolicySnapshotTest, InterpreterSnapshotHasNoEngine) {
  PolicySnapshot snapshot(betaPolicy(), nullptr);
  EXPECT_EQ(snapshot.engine, nullptr);
  RejectingVerifier verifier;
  policy::Decision d = snapshot.decide(request(kBetaOnlyTag), verifier);
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  // The interpreter builds the reason whether or not it is asked for.
  EXPECT_FALSE(d.reason.empty());
}

TEST(PolicySnapshotTest, EnginesAgreeOnBothPolicies) {
  for (const auto& make : {alphaPolicy, betaPolicy}) {
    std::shared_ptr<const ir::Policy> policy = make();
    SCOPED_TRACE(policy->realms[0].name);
    std::shared_ptr<const PolicySnapshot> jit = jitSnapshot(policy);
    ASSERT_NE(jit, nullptr);
    PolicySnapshot interpreter(policy, nullptr);
    for (uint8_t tag : {kSharedTag, kBetaOnlyTag, uint8_t{0x33}}) {
      SCOPED_TRACE(static_cast<int>(tag));
      RejectingVerifier jit_verifier;
      RejectingVerifier interpreter_verifier;
      policy::Decision a = jit->decide(request(tag), jit_verifier);
      policy::Decision b = interpreter.decide(request(tag), interpreter_verifier);
      EXPECT_EQ(a.outcome, b.outcome);
      EXPECT_EQ(a.realm, b.realm);
      EXPECT_EQ(a.container, b.container);
      EXPECT_EQ(a.group, b.group);
      EXPECT_EQ(a.challenges, b.challenges);
      EXPECT_EQ(jit_verifier.calls, interpreter_verifier.calls);
    }
  }
}

TEST(PolicySnapshotTest, JitBuildsReasonOnlyWhenAsked) {
  std::shared_ptr<const PolicySnapshot> snapshot = jitSnapshot(betaPolicy());
  ASSERT_NE(snapshot, nullptr);
  RejectingVerifier verifier;
  policy::Decision omitted = snapshot->decide(request(kSharedTag), verifier);
  EXPECT_EQ(omitted.outcome, policy::Outcome::Unauthorized);
  EXPECT_EQ(omitted.challenges, policy::kChallengeBearer);
  EXPECT_TRUE(omitted.reason.empty());

  policy::Decision built = snapshot->decide(request(kSharedTag), verifier, ReasonText::Build);
  EXPECT_EQ(built.outcome, policy::Outcome::Unauthorized);
  PolicySnapshot interpreter(snapshot->policy, nullptr);
  EXPECT_EQ(built.reason, interpreter.decide(request(kSharedTag), verifier).reason);
}

// Polls until `object` is freed or `limit` passes.
template <typename T>
bool expiresWithin(const std::weak_ptr<T>& object, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!object.expired() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  return object.expired();
}

// Test object that records the thread that destroys it.
struct DestructionProbe {
  explicit DestructionProbe(std::thread::id* destroyed_on) : destroyed_on(destroyed_on) {}
  ~DestructionProbe() { *destroyed_on = std::this_thread::get_id(); }
  std::thread::id* destroyed_on;
};

TEST(DeferredReleaseTest, LastUserDoesNotFree) {
  std::thread::id destroyed_on;
  std::weak_ptr<DestructionProbe> watch;
  std::thread::id user_thread;
  {
    DeferredRelease<DestructionProbe> release;
    auto object = std::make_shared<DestructionProbe>(&destroyed_on);
    watch = object;
    std::shared_ptr<DestructionProbe> in_use = object;
    release.release(std::move(object));
    // Still used by a request: the release waits for it.
    std::this_thread::sleep_for(3 * DeferredRelease<DestructionProbe>::kCheckInterval);
    EXPECT_FALSE(watch.expired());

    std::thread user([&] {
      user_thread = std::this_thread::get_id();
      in_use.reset();
    });
    user.join();
    ASSERT_TRUE(expiresWithin(watch, 2s));
  }
  EXPECT_NE(destroyed_on, std::thread::id());
  EXPECT_NE(destroyed_on, user_thread);
  EXPECT_NE(destroyed_on, std::this_thread::get_id());
}

TEST(DeferredReleaseTest, StopLeavesObjectToLastUser) {
  std::thread::id destroyed_on;
  auto object = std::make_shared<DestructionProbe>(&destroyed_on);
  std::shared_ptr<DestructionProbe> in_use = object;
  {
    DeferredRelease<DestructionProbe> release;
    release.release(std::move(object));
  }
  EXPECT_EQ(destroyed_on, std::thread::id());
  in_use.reset();
  EXPECT_EQ(destroyed_on, std::this_thread::get_id());
}

TEST(PolicyHolderTest, ReleasedEngineIsDestroyed) {
  PolicyHolder holder;
  std::shared_ptr<const PolicySnapshot> first = jitSnapshot(alphaPolicy());
  ASSERT_NE(first, nullptr);
  std::weak_ptr<const jit::JitEngine> first_engine = first->engine;
  std::weak_ptr<const ir::Policy> first_policy = first->policy;
  holder.set(std::move(first));

  // A request in flight keeps the snapshot it started on.
  std::shared_ptr<const PolicySnapshot> in_flight = holder.get();
  std::shared_ptr<const PolicySnapshot> second = jitSnapshot(betaPolicy());
  ASSERT_NE(second, nullptr);
  holder.set(std::move(second));
  EXPECT_FALSE(first_engine.expired());
  RejectingVerifier verifier;
  EXPECT_EQ(in_flight->decide(request(kSharedTag), verifier).outcome, policy::Outcome::Allow);
  EXPECT_EQ(holder.get()->decide(request(kSharedTag), verifier).outcome,
            policy::Outcome::Unauthorized);

  // The last holder lets go: engine and policy are freed, on the holder's
  // background thread.
  in_flight.reset();
  EXPECT_TRUE(expiresWithin(first_engine, 2s));
  EXPECT_TRUE(first_policy.expired());
}

TEST(PolicyHolderTest, SwapsUnderLoadNeverMixPolicies) {
  constexpr int kSwaps = 8;
  constexpr int kReaders = 2;
  // Engines are compiled before the readers start, so the swaps come fast.
  std::vector<std::shared_ptr<const PolicySnapshot>> snapshots;
  std::vector<std::weak_ptr<const jit::JitEngine>> engines;
  for (int i = 0; i < kSwaps; ++i) {
    snapshots.push_back(jitSnapshot(i % 2 == 0 ? alphaPolicy() : betaPolicy()));
    ASSERT_NE(snapshots.back(), nullptr);
    engines.push_back(snapshots.back()->engine);
  }

  PolicyHolder holder;
  holder.set(snapshots[0]);
  std::atomic<bool> done{false};
  std::atomic<int> mismatches{0};
  std::atomic<int> decisions{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      RejectingVerifier verifier;
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!done.load() && std::chrono::steady_clock::now() < deadline) {
        std::shared_ptr<const PolicySnapshot> snapshot = holder.get();
        for (uint8_t tag : {kSharedTag, kBetaOnlyTag}) {
          policy::Decision d = snapshot->decide(request(tag), verifier);
          bool consistent = &snapshot->engine->policy() == snapshot->policy.get() &&
                            d.outcome == expectedOutcome(*snapshot->policy, tag);
          if (!consistent) ++mismatches;
          ++decisions;
        }
      }
    });
  }

  // Each swap waits until the readers have decided on the current snapshot.
  for (int i = 1; i < kSwaps; ++i) {
    int before = decisions.load();
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (decisions.load() < before + 100 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100us);
    }
    holder.set(snapshots[static_cast<size_t>(i)]);
  }
  done = true;
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_GE(decisions.load(), 100 * (kSwaps - 1));
  // Only the holder and this test's list keep engines alive now.
  snapshots.clear();
  for (int i = 0; i < kSwaps - 1; ++i) {
    EXPECT_TRUE(expiresWithin(engines[static_cast<size_t>(i)], 2s)) << "engine " << i;
  }
  EXPECT_FALSE(engines.back().expired());
}

}  // namespace
}  // namespace hoody::proxy
