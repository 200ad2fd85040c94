// SPDX-License-Identifier: Apache-2.0
// Tests for the JIT decision engine on hand-written policies: each outcome,
// group order, verifier calls, bitcode round trips, errors and engine swaps.
#include "runtime/jit/jit_engine.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "compiler/codegen/llvm/decision_codegen.h"
#include "runtime/abi/address.h"
#include "runtime/policy/interpreter.h"
#include "tests/unit/runtime/jit/differential.h"

namespace hoody::jit {
namespace {

using testing::RecordingVerifier;

const codegen::CodegenOptions kFixedKey{std::array<uint64_t, 2>{1, 2}, true};

ir::Id96 id(uint8_t tag) {
  ir::Id96 v{};
  v.fill(tag);
  return v;
}

ir::Group ipGroup(std::string name, std::vector<const char*> cidrs, ir::ServiceSet services) {
  ir::Group g;
  g.name = std::move(name);
  g.has_ip = true;
  for (const char* cidr : cidrs) net::addToSet(g.ip, *net::parseCidr(cidr));
  g.grants.push_back({services, ir::kAllMethods, {}});
  return g;
}

ir::Group credentialGroup(std::string name, ir::CredentialKind kind, ir::Grant grant) {
  ir::Group g;
  g.name = std::move(name);
  g.credential = kind;
  g.grants.push_back(std::move(grant));
  return g;
}

ir::Container container(std::string name, uint8_t tag, uint32_t block) {
  ir::Container c;
  c.name = std::move(name);
  c.id = id(tag);
  c.project_id = id(0x90);
  c.block = block;
  return c;
}

// Builds realm `acme` with three blocks, and realm `other`.
// - Block 0 (project) denies by default. `monitoring` (bearer, GET/HEAD on
//   http) is declared before `staff` (10.0.0.0/8, http), so the rank order is
//   visible. `ops` (password) and `sso` (JWT) grant the terminal under /admin.
// - Block 1 (container `public`) allows http by default, and `world` grants
//   exec to any address.
// - Block 2 has block 0's structure with other group names.
std::shared_ptr<ir::Policy> samplePolicy() {
  ir::PermissionBlock project;
  project.origin = "project production";
  project.groups.push_back(credentialGroup(
      "monitoring", ir::CredentialKind::Bearer,
      {ir::bit(ir::Service::Http), ir::bit(ir::Method::Get) | ir::bit(ir::Method::Head), {}}));
  project.groups.push_back(ipGroup("staff", {"10.0.0.0/8"}, ir::bit(ir::Service::Http)));
  project.groups.push_back(credentialGroup(
      "ops", ir::CredentialKind::Password, {ir::bit(ir::Service::Terminal), ir::kAllMethods, {"/admin"}}));
  project.groups.push_back(credentialGroup(
      "sso", ir::CredentialKind::Jwt, {ir::bit(ir::Service::Terminal), ir::kAllMethods, {"/admin"}}));

  ir::PermissionBlock open;
  open.origin = "container public";
  open.default_allow = ir::bit(ir::Service::Http);
  open.groups.push_back(ipGroup("world", {"0.0.0.0/0", "::/0"}, ir::bit(ir::Service::Exec)));

  ir::PermissionBlock twin = project;
  twin.origin = "container twin";
  for (auto& g : twin.groups) g.name = "twin-" + g.name;

  ir::Realm realm;
  realm.name = "acme";
  realm.blocks = {project, open, twin};
  realm.containers.push_back(container("api", 0x11, 0));
  realm.containers.push_back(container("public", 0x22, 1));
  realm.containers.push_back(container("billing", 0x33, 0));
  realm.containers.back().maintenance = true;
  realm.containers.push_back(container("twin", 0x44, 2));

  ir::Realm other;
  other.name = "other";
  other.blocks = {open};
  other.containers.push_back(container("solo", 0x55, 0));

  auto policy = std::make_shared<ir::Policy>();
  policy->realms = {realm, other};
  return policy;
}

policy::RequestFacts request(uint8_t tag, ir::Service service, const char* client,
                             const char* path = "/") {
  policy::RequestFacts f;
  f.host.container = id(tag);
  f.host.project = id(0x90);
  f.host.service = service;
  f.client = *net::parseAddress(client);
  f.path = path;
  f.now = 1700000000;
  return f;
}

class JitEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = samplePolicy();
    auto engine = JitEngine::create(policy_, kFixedKey);
    ASSERT_TRUE(engine) << engine.error().str();
    engine_ = *engine;
  }

  // Decides with the JIT engine and checks the interpreter agrees, including
  // the verifier calls.
  policy::Decision decide(const policy::RequestFacts& f) {
    RecordingVerifier interpreter_verifier;
    policy::Decision expected = policy::Interpreter(policy_).decide(f, interpreter_verifier);
    verifier_.calls.clear();
    policy::Decision d = engine_->decide(f, verifier_);
    EXPECT_EQ(testing::compareDecisions(expected, d), "");
    EXPECT_EQ(interpreter_verifier.calls, verifier_.calls);
    return d;
  }

  std::shared_ptr<ir::Policy> policy_;
  std::shared_ptr<JitEngine> engine_;
  RecordingVerifier verifier_;
};

TEST_F(JitEngineTest, UnknownHostIsNotFound) {
  policy::Decision d = decide(request(0x12, ir::Service::Http, "10.1.2.3"));
  EXPECT_EQ(d.outcome, policy::Outcome::NotFound);
  EXPECT_EQ(d.realm, -1);
  EXPECT_EQ(d.container, -1);
  EXPECT_EQ(d.group, -1);
}

TEST_F(JitEngineTest, LastKeyByteIsCompared) {
  policy::RequestFacts f = request(0x11, ir::Service::Http, "10.1.2.3");
  f.host.project[11] ^= 0x80;
  EXPECT_EQ(decide(f).outcome, policy::Outcome::NotFound);
}

TEST_F(JitEngineTest, MaintenanceIsReported) {
  policy::Decision d = decide(request(0x33, ir::Service::Http, "10.1.2.3"));
  EXPECT_EQ(d.outcome, policy::Outcome::Maintenance);
  EXPECT_EQ(d.realm, 0);
  EXPECT_EQ(d.container, 2);
}

TEST_F(JitEngineTest, DefaultAllows) {
  policy::Decision d = decide(request(0x22, ir::Service::Http, "198.51.100.7"));
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  EXPECT_EQ(d.group, -1);
  EXPECT_EQ(d.reason, "the default of container public allows `http`");
}

TEST_F(JitEngineTest, SecondRealmIsFound) {
  policy::Decision d = decide(request(0x55, ir::Service::Exec, "2001:db8::1"));
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  EXPECT_EQ(d.realm, 1);
  EXPECT_EQ(d.container, 0);
  EXPECT_EQ(d.group, 0);
}

TEST_F(JitEngineTest, IpGroupGrantsBeforeBearerGroup) {
  policy::Credentials token{policy::Credentials::Kind::Bearer, "", "", "token"};
  policy::RequestFacts f = request(0x11, ir::Service::Http, "10.1.2.3");
  f.credentials = &token;
  policy::Decision d = decide(f);
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  EXPECT_EQ(d.group, 1);
  EXPECT_TRUE(verifier_.calls.empty());
}

TEST_F(JitEngineTest, MappedAddressMatchesIpv4Range) {
  policy::Decision d = decide(request(0x11, ir::Service::Http, "::ffff:10.9.9.9"));
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  EXPECT_EQ(d.group, 1);
}

TEST_F(JitEngineTest, MissingBearerGetsChallenge) {
  policy::Decision d = decide(request(0x11, ir::Service::Http, "192.0.2.1"));
  EXPECT_EQ(d.outcome, policy::Outcome::Unauthorized);
  EXPECT_EQ(d.challenges, policy::kChallengeBearer);
  EXPECT_TRUE(verifier_.calls.empty());
}

TEST_F(JitEngineTest, BearerVerifierIsCalledOnce) {
  policy::Credentials token{policy::Credentials::Kind::Bearer, "", "", "token"};
  policy::RequestFacts f = request(0x11, ir::Service::Http, "192.0.2.1");
  f.credentials = &token;
  decide(f);
  ASSERT_EQ(verifier_.calls.size(), 1u);
  EXPECT_EQ(verifier_.calls[0].kind, 'b');
  EXPECT_EQ(verifier_.calls[0].group->name, "monitoring");
  EXPECT_EQ(verifier_.calls[0].first, "token");
}

TEST_F(JitEngineTest, MethodOutsideGrantIsForbidden) {
  policy::RequestFacts f = request(0x11, ir::Service::Http, "192.0.2.1");
  f.method = ir::Method::Post;
  policy::Decision d = decide(f);
  EXPECT_EQ(d.outcome, policy::Outcome::Forbidden);
  EXPECT_EQ(d.challenges, 0);
}

TEST_F(JitEngineTest, TerminalChallengesBothKinds) {
  policy::Decision d = decide(request(0x11, ir::Service::Terminal, "192.0.2.1", "/admin/x"));
  EXPECT_EQ(d.outcome, policy::Outcome::Unauthorized);
  EXPECT_EQ(d.challenges, policy::kChallengeBasic | policy::kChallengeBearer);
}

TEST_F(JitEngineTest, PathOutsidePrefixIsForbidden) {
  policy::Decision d = decide(request(0x11, ir::Service::Terminal, "192.0.2.1", "/administrator"));
  EXPECT_EQ(d.outcome, policy::Outcome::Forbidden);
}

TEST_F(JitEngineTest, JwtVerifierGetsRealmAndTime) {
  policy::Credentials token{policy::Credentials::Kind::Bearer, "", "", "eyJ.a.b"};
  policy::RequestFacts f = request(0x11, ir::Service::Terminal, "192.0.2.1", "/admin");
  f.credentials = &token;
  decide(f);
  ASSERT_FALSE(verifier_.calls.empty());
  EXPECT_EQ(verifier_.calls[0].kind, 'j');
  EXPECT_EQ(verifier_.calls[0].realm, &policy_->realms[0]);
  EXPECT_EQ(verifier_.calls[0].now, 1700000000);
}

TEST_F(JitEngineTest, SharedBlockCodeNamesOwnGroup) {
  policy::Credentials basic{policy::Credentials::Kind::Basic, "alice", "pw", ""};
  policy::RequestFacts f = request(0x44, ir::Service::Terminal, "192.0.2.1", "/admin");
  f.credentials = &basic;
  decide(f);
  ASSERT_EQ(verifier_.calls.size(), 1u);
  EXPECT_EQ(verifier_.calls[0].group, &policy_->realms[0].blocks[2].groups[2]);
  EXPECT_EQ(verifier_.calls[0].group->name, "twin-ops");
}

class ThrowingVerifier final : public policy::Verifier {
 public:
  bool verifyPassword(const ir::Group&, std::string_view, std::string_view) override {
    throw std::runtime_error("password backend down");
  }
  bool verifyBearer(const ir::Group&, std::string_view) override {
    throw std::runtime_error("bearer backend down");
  }
  bool verifyJwt(const ir::Group&, const ir::Realm&, std::string_view, int64_t) override {
    throw std::runtime_error("jwt backend down");
  }
};

TEST_F(JitEngineTest, ThrowingVerifierDenies) {
  policy::Credentials token{policy::Credentials::Kind::Bearer, "", "", "token"};
  policy::RequestFacts f = request(0x11, ir::Service::Http, "192.0.2.1");
  f.credentials = &token;
  ThrowingVerifier verifier;
  policy::Decision d = engine_->decide(f, verifier);
  EXPECT_EQ(d.outcome, policy::Outcome::Forbidden);
  EXPECT_EQ(d.group, -1);
  EXPECT_EQ(d.reason, "a credential verifier failed, so the request is denied");
  EXPECT_EQ(engine_->failedDecisions(), 1u);
}

TEST_F(JitEngineTest, ReasonCanBeOmitted) {
  policy::Decision d =
      engine_->decide(request(0x22, ir::Service::Http, "198.51.100.7"), verifier_, false);
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  EXPECT_TRUE(d.reason.empty());
}

TEST(JitBitcodeTest, RoundTripDecidesTheSame) {
  auto policy = samplePolicy();
  auto bitcode = codegen::emitBitcode(*policy, kFixedKey);
  ASSERT_TRUE(bitcode) << bitcode.error().str();
  auto engine = JitEngine::createFromBitcode(*bitcode, policy);
  ASSERT_TRUE(engine) << engine.error().str();
  RecordingVerifier verifier;
  policy::Decision d = (*engine)->decide(request(0x11, ir::Service::Http, "10.1.2.3"), verifier);
  EXPECT_EQ(d.outcome, policy::Outcome::Allow);
  EXPECT_EQ(d.group, 1);
  d = (*engine)->decide(request(0x33, ir::Service::Http, "10.1.2.3"), verifier);
  EXPECT_EQ(d.outcome, policy::Outcome::Maintenance);
}

TEST(JitBitcodeTest, FixedKeyIsReproducible) {
  auto policy = samplePolicy();
  auto first = codegen::emitBitcode(*policy, kFixedKey);
  auto second = codegen::emitBitcode(*policy, kFixedKey);
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
}

TEST(JitBitcodeTest, OtherPolicyIsRejected) {
  auto policy = samplePolicy();
  auto bitcode = codegen::emitBitcode(*policy);
  ASSERT_TRUE(bitcode);
  auto changed = samplePolicy();
  changed->realms[0].containers[0].maintenance = true;
  auto engine = JitEngine::createFromBitcode(*bitcode, changed);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "policy-mismatch");
}

TEST(JitBitcodeTest, GarbageIsRejected) {
  auto engine = JitEngine::createFromBitcode("not bitcode at all", samplePolicy());
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "invalid-bitcode");
}

TEST(JitBitcodeTest, TruncatedBitcodeIsRejected) {
  auto policy = samplePolicy();
  auto bitcode = codegen::emitBitcode(*policy);
  ASSERT_TRUE(bitcode);
  auto engine = JitEngine::createFromBitcode(bitcode->substr(0, bitcode->size() / 2), policy);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "invalid-bitcode");
}

TEST(JitCodegenTest, BlockIndexOutOfRangeIsRejected) {
  auto policy = samplePolicy();
  policy->realms[0].containers[0].block = 7;
  auto engine = JitEngine::create(policy);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "invalid-ir");
  EXPECT_NE(engine.error().message.find("`api`"), std::string::npos);
}

TEST(JitCodegenTest, OverlappingRangesAreRejected) {
  auto policy = samplePolicy();
  auto& ranges = policy->realms[0].blocks[0].groups[1].ip.v4;
  ranges.push_back(ranges[0]);
  auto engine = JitEngine::create(policy);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "invalid-ir");
}

TEST(JitCodegenTest, DuplicateIdPairIsRejected) {
  auto policy = samplePolicy();
  policy->realms[1].containers[0].id = policy->realms[0].containers[0].id;
  auto engine = JitEngine::create(policy);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "duplicate-container-id");
}

TEST(JitCodegenTest, NullPolicyIsRejected) {
  auto engine = JitEngine::create(nullptr);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, "invalid-ir");
}

TEST(JitCodegenTest, EmptyPolicyFindsNothing) {
  auto engine = JitEngine::create(std::make_shared<ir::Policy>());
  ASSERT_TRUE(engine) << engine.error().str();
  RecordingVerifier verifier;
  EXPECT_EQ((*engine)->decide(request(0x11, ir::Service::Http, "10.1.2.3"), verifier).outcome,
            policy::Outcome::NotFound);
}

// More ranges than the unrolled limit, so the binary search decides. Every
// range edge and its neighbours are checked against the interpreter.
TEST(JitCodegenTest, LongRangeListsMatchEdges) {
  ir::Group g;
  g.name = "many";
  g.has_ip = true;
  for (int i = 0; i < 40; ++i) {
    std::string v4 = "10." + std::to_string(i * 3) + ".0.0/16";
    std::string v6 = "2001:db8:" + std::to_string(i * 3) + "::/48";
    net::addToSet(g.ip, *net::parseCidr(v4));
    net::addToSet(g.ip, *net::parseCidr(v6));
  }
  g.grants.push_back({ir::kAllServices, ir::kAllMethods, {}});
  auto policy = std::make_shared<ir::Policy>();
  ir::Realm realm;
  realm.blocks.emplace_back().groups.push_back(g);
  realm.containers.push_back(container("c", 0x11, 0));
  policy->realms.push_back(realm);
  auto engine = JitEngine::create(policy);
  ASSERT_TRUE(engine) << engine.error().str();
  policy::Interpreter interpreter(policy);
  RecordingVerifier verifier;

  policy::RequestFacts f = request(0x11, ir::Service::Http, "10.0.0.0");
  int allowed = 0;
  for (const auto& r : g.ip.v4) {
    for (uint32_t a : {r.first - 1, r.first, r.first + 1, r.last - 1, r.last, r.last + 1}) {
      f.client = {true, a, {}};
      policy::Decision d = (*engine)->decide(f, verifier);
      EXPECT_EQ(d.outcome, interpreter.decide(f, verifier).outcome) << net::formatAddress(f.client);
      allowed += d.outcome == policy::Outcome::Allow;
    }
  }
  for (const auto& r : g.ip.v6) {
    for (int delta : {-1, 0, 1}) {
      for (ir::U128 edge : {r.first, r.last}) {
        f.client = {false, 0, testing::detail::addV6(edge, delta)};
        policy::Decision d = (*engine)->decide(f, verifier);
        EXPECT_EQ(d.outcome, interpreter.decide(f, verifier).outcome)
            << net::formatAddress(f.client);
        allowed += d.outcome == policy::Outcome::Allow;
      }
    }
  }
  // Of the 6 probes per range, 4 are inside it, for 40 ranges of each family.
  EXPECT_EQ(allowed, 40 * 4 + 40 * 4);
}

TEST(JitEngineSlotTest, SwapKeepsOldEngineAlive) {
  auto first = JitEngine::create(samplePolicy());
  auto second = JitEngine::create(std::make_shared<ir::Policy>());
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  JitEngineSlot slot;
  EXPECT_EQ(slot.load(), nullptr);
  slot.store(*first);
  std::shared_ptr<const JitEngine> in_flight = slot.load();
  slot.store(*second);
  first->reset();
  RecordingVerifier verifier;
  // The engine an in-flight request holds still decides with the first
  // policy's code.
  EXPECT_EQ(in_flight->decide(request(0x22, ir::Service::Http, "10.1.2.3"), verifier).outcome,
            policy::Outcome::Allow);
  EXPECT_EQ(slot.load()->decide(request(0x22, ir::Service::Http, "10.1.2.3"), verifier).outcome,
            policy::Outcome::NotFound);
}

TEST(JitEngineSlotTest, ConcurrentReadersSeeWholeEngines) {
  auto policy = samplePolicy();
  auto a = JitEngine::create(policy);
  auto b = JitEngine::create(policy);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  JitEngineSlot slot;
  slot.store(*a);
  std::atomic<int> wrong{0};
  std::thread reader([&] {
    RecordingVerifier verifier;
    for (int i = 0; i < 20000; ++i) {
      auto engine = slot.load();
      if (engine->decide(request(0x22, ir::Service::Http, "10.1.2.3"), verifier, false).outcome !=
          policy::Outcome::Allow) {
        ++wrong;
      }
    }
  });
  for (int i = 0; i < 2000; ++i) slot.store(i % 2 ? *a : *b);
  reader.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace hoody::jit
