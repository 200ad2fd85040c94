// SPDX-License-Identifier: Apache-2.0
// Differential fuzz target: the JIT engine against the reference interpreter.
//
// Input layout: byte 0 is the length L (at most kMaxPolicyBytes) of the
// policy part, bytes 1..L describe a small policy, and the rest describes up
// to kMaxRequests requests against it. Missing bytes read as zero, so every
// input decodes to some policy.
//
// Invariant: for every request both engines return the same outcome, realm,
// container, granting group, challenges and reason, and call the verifier
// with the same arguments in the same order. A difference aborts after
// printing both decisions.
//
// Compiling a policy takes tens of milliseconds, far longer than deciding a
// request, so compiled engines are cached by the policy's encoded IR: a
// mutation that changes only the request bytes reuses the engine.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "runtime/abi/address.h"
#include "runtime/abi/bundle.h"
#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"
#include "tests/unit/runtime/jit/differential.h"

namespace {

using namespace hoody;

constexpr size_t kMaxPolicyBytes = 64;
constexpr size_t kMaxRequests = 64;
constexpr size_t kCachedEngines = 32;

// Reads the input byte by byte; past the end every read returns 0.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t below(uint32_t n) { return n == 0 ? 0 : byte() % n; }
  uint16_t word() { return static_cast<uint16_t>(byte() | byte() << 8); }
  uint32_t dword() { return static_cast<uint32_t>(word()) | static_cast<uint32_t>(word()) << 16; }
  bool done() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

constexpr uint32_t kV4Bases[] = {0x0a000000u, 0xc0000200u, 0x00000000u, 0xffffff00u};
constexpr ir::U128 kV6Bases[] = {{0x20010db800000000ULL, 0}, {0, 0}, {~0ULL, ~0ULL << 8}};
constexpr const char* kPrefixes[] = {"/", "/admin", "/api", "/api/v1", "/a/b"};
constexpr const char* kPaths[] = {"/", "/admin", "/admin/", "/admin/x", "/administrator",
                                  "/api/v1/users", "/a", "/a/b/c", "/other"};
constexpr const char* kSecrets[] = {"alice", "bob", "tok-1", "tok-2", "eyJ.a.b", ""};

void addCidr(ByteReader& in, ir::IpSet& set) {
  net::Cidr cidr;
  cidr.network.is_v4 = in.below(3) != 0;
  if (cidr.network.is_v4) {
    cidr.prefix = in.below(33);
    uint32_t offset = static_cast<uint32_t>(in.word()) << in.below(17);
    uint32_t base = kV4Bases[in.below(std::size(kV4Bases))] + offset;
    cidr.network.v4 = jit::testing::detail::maskV4(base, cidr.prefix);
  } else {
    cidr.prefix = in.below(129);
    ir::U128 base = jit::testing::detail::addV6(kV6Bases[in.below(std::size(kV6Bases))],
                                                static_cast<int64_t>(in.word()) - 0x8000);
    cidr.network.v6 = jit::testing::detail::maskV6(base, cidr.prefix);
    // Lowering writes IPv4-mapped networks as IPv4, so the IR never has them.
    if (cidr.network.v6.hi == 0 && (cidr.network.v6.lo >> 32) == 0xffff) return;
  }
  net::addToSet(set, cidr);
}

ir::Group decodeGroup(ByteReader& in, int index) {
  ir::Group g;
  g.name = "g" + std::to_string(index);
  g.credential = static_cast<ir::CredentialKind>(in.below(4));
  g.has_ip = (in.byte() & 1) != 0;
  if (g.has_ip) {
    uint32_t cidrs = in.below(7);
    for (uint32_t i = 0; i < cidrs; ++i) addCidr(in, g.ip);
  }
  uint32_t grants = in.below(3);
  for (uint32_t i = 0; i < grants; ++i) {
    ir::Grant grant;
    grant.services = in.word() & ir::kAllServices;
    grant.methods = in.below(2) ? ir::kAllMethods : static_cast<ir::MethodSet>(in.word() & ir::kAllMethods);
    uint32_t prefixes = in.below(4) == 0 ? 1 + in.below(2) : 0;
    for (uint32_t p = 0; p < prefixes; ++p) {
      grant.path_prefixes.push_back(kPrefixes[in.below(std::size(kPrefixes))]);
    }
    g.grants.push_back(std::move(grant));
  }
  return g;
}

// Containers get distinct IDs from their position, and a byte picks between
// two project IDs, so lookups see shared projects and near-miss keys.
std::shared_ptr<ir::Policy> decodePolicy(ByteReader& in) {
  auto policy = std::make_shared<ir::Policy>();
  uint32_t realms = 1 + in.below(2);
  for (uint32_t r = 0; r < realms; ++r) {
    ir::Realm realm;
    realm.name = "realm" + std::to_string(r);
    uint32_t blocks = 1 + in.below(3);
    for (uint32_t b = 0; b < blocks; ++b) {
      ir::PermissionBlock block;
      block.origin = "block b" + std::to_string(b);
      block.default_allow = in.below(3) == 0 ? in.word() & ir::kAllServices : ir::kNoServices;
      uint32_t groups = in.below(5);
      for (uint32_t g = 0; g < groups; ++g) block.groups.push_back(decodeGroup(in, g));
      realm.blocks.push_back(std::move(block));
    }
    uint32_t containers = 1 + in.below(4);
    for (uint32_t c = 0; c < containers; ++c) {
      ir::Container container;
      container.name = "c" + std::to_string(c);
      container.id.fill(static_cast<uint8_t>(0x10 * (r + 1) + c));
      container.project_id.fill(static_cast<uint8_t>(0xa0 + in.below(2)));
      container.block = in.below(blocks);
      container.maintenance = in.below(8) == 7;
      realm.containers.push_back(std::move(container));
    }
    policy->realms.push_back(std::move(realm));
  }
  return policy;
}

struct Request {
  policy::RequestFacts facts;
  std::string path;
  policy::Credentials credentials;
};

// Clients near the edges of the policy's ranges, or from the input.
ir::IpAddress decodeClient(ByteReader& in, const ir::Policy& policy) {
  std::vector<const ir::IpSet*> sets;
  for (const auto& realm : policy.realms) {
    for (const auto& block : realm.blocks) {
      for (const auto& g : block.groups) {
        if (g.has_ip && !g.ip.empty()) sets.push_back(&g.ip);
      }
    }
  }
  ir::IpAddress a;
  int64_t delta = static_cast<int64_t>(in.below(3)) - 1;
  if (!sets.empty() && in.below(4) != 0) {
    const ir::IpSet& set = *sets[in.below(sets.size())];
    bool at_last = in.below(2) != 0;
    if (!set.v4.empty() && (set.v6.empty() || in.below(2) == 0)) {
      const ir::V4Range& r = set.v4[in.below(set.v4.size())];
      a.v4 = (at_last ? r.last : r.first) + static_cast<uint32_t>(delta);
    } else {
      const ir::V6Range& r = set.v6[in.below(set.v6.size())];
      a.is_v4 = false;
      a.v6 = jit::testing::detail::addV6(at_last ? r.last : r.first, delta);
    }
    return a;
  }
  a.is_v4 = in.below(2) == 0;
  if (a.is_v4) {
    a.v4 = in.dword();
  } else {
    a.v6 = {static_cast<uint64_t>(in.dword()) << 32 | in.dword(), in.dword()};
  }
  return a;
}

void decodeRequest(ByteReader& in, const ir::Policy& policy, Request& request) {
  policy::RequestFacts& f = request.facts;
  std::vector<const ir::Container*> known;
  for (const auto& realm : policy.realms) {
    for (const auto& c : realm.containers) known.push_back(&c);
  }
  uint32_t pick = in.byte();
  if (!known.empty() && pick % 8 != 0) {
    const ir::Container& c = *known[pick % known.size()];
    f.host.container = c.id;
    f.host.project = c.project_id;
    // Now and then one bit of the key is flipped.
    if (pick >= 0xf0) f.host.project[pick & 7] ^= 0x01;
  } else {
    f.host.container.fill(in.byte());
    f.host.project.fill(in.byte());
  }
  f.host.service = static_cast<ir::Service>(in.below(ir::kServiceCount));
  f.method = static_cast<ir::Method>(in.below(ir::kMethodCount));
  request.path = kPaths[in.below(std::size(kPaths))];
  f.path = request.path;
  f.client = decodeClient(in, policy);
  f.now = 1700000000 + in.byte();

  using Kind = policy::Credentials::Kind;
  policy::Credentials& c = request.credentials;
  c = {};
  switch (in.below(6)) {
    case 0: f.credentials = nullptr; return;
    case 1: c.kind = Kind::Basic; c.user = kSecrets[in.below(std::size(kSecrets))];
            c.password = kSecrets[in.below(std::size(kSecrets))]; break;
    case 2:
    case 3: c.kind = Kind::Bearer; c.token = kSecrets[in.below(std::size(kSecrets))]; break;
    case 4: c.kind = Kind::Invalid; break;
    default: c.kind = Kind::None; break;
  }
  f.credentials = &c;
}

std::string describeCalls(const std::vector<jit::testing::VerifierCall>& calls) {
  std::string text;
  for (const auto& call : calls) {
    text += std::string(1, call.kind) + "(" + (call.group ? call.group->name : "?") + ", \"" +
            call.first + "\", \"" + call.second + "\") ";
  }
  return text.empty() ? "none" : text;
}

struct Engines {
  std::shared_ptr<const ir::Policy> policy;
  std::unique_ptr<policy::Interpreter> interpreter;
  std::shared_ptr<jit::JitEngine> jit;
};

// Returns the engines for `policy`, compiling them unless cached. Aborts when
// the JIT rejects the policy, because the decoder only makes valid ones.
const Engines* enginesFor(std::shared_ptr<ir::Policy> policy) {
  static std::map<std::string, Engines> cache;
  static std::deque<std::string> order;
  std::string key = bundle::encodeIr(*policy);
  auto it = cache.find(key);
  if (it != cache.end()) return &it->second;

  auto engine = jit::JitEngine::create(policy);
  if (!engine) {
    std::fprintf(stderr, "jit_diff_fuzz: the JIT rejected a decoded policy: %s\n",
                 engine.error().str().c_str());
    abort();
  }
  if (order.size() == kCachedEngines) {
    cache.erase(order.front());
    order.pop_front();
  }
  order.push_back(key);
  Engines& entry = cache[key];
  entry.policy = policy;
  entry.interpreter = std::make_unique<policy::Interpreter>(policy);
  entry.jit = std::move(*engine);
  return &entry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t policy_bytes = std::min<size_t>(data[0], kMaxPolicyBytes);
  policy_bytes = std::min(policy_bytes, size - 1);
  ByteReader policy_in(data + 1, policy_bytes);
  const Engines* engines = enginesFor(decodePolicy(policy_in));

  ByteReader in(data + 1 + policy_bytes, size - 1 - policy_bytes);
  Request request;
  jit::testing::RecordingVerifier interpreter_verifier;
  jit::testing::RecordingVerifier jit_verifier;
  for (size_t i = 0; i < kMaxRequests && !in.done(); ++i) {
    decodeRequest(in, *engines->policy, request);
    interpreter_verifier.calls.clear();
    jit_verifier.calls.clear();
    policy::Decision expected = engines->interpreter->decide(request.facts, interpreter_verifier);
    policy::Decision actual = engines->jit->decide(request.facts, jit_verifier);
    std::string difference = jit::testing::compareDecisions(expected, actual);
    if (!difference.empty() || interpreter_verifier.calls != jit_verifier.calls) {
      std::fprintf(stderr, "jit_diff_fuzz: request %zu: %s\n%s\ninterpreter calls: %s\njit calls: %s\n",
                   i, jit::testing::describe(request.facts).c_str(),
                   difference.empty() ? "decisions agree" : difference.c_str(),
                   describeCalls(interpreter_verifier.calls).c_str(),
                   describeCalls(jit_verifier.calls).c_str());
      abort();
    }
  }
  return 0;
}
