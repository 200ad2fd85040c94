// SPDX-License-Identifier: Apache-2.0
// Differential testing of the JIT engine against the reference interpreter:
// random policies, random requests aimed at their edges, a recording fake
// verifier, and a field-by-field comparison of decisions. The unit tests and
// the jit_diff_fuzz target share it, so it does not depend on GoogleTest.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/abi/address.h"
#include "runtime/abi/decision_ir.h"
#include "runtime/policy/decision.h"

namespace hoody::jit::testing {

/// One verifier call, as observed by RecordingVerifier.
struct VerifierCall {
  char kind = 0;  ///< 'p' password, 'b' bearer, 'j' JWT.
  const ir::Group* group = nullptr;
  const ir::Realm* realm = nullptr;
  std::string first;   ///< User name or token.
  std::string second;  ///< Password.
  int64_t now = 0;
  friend bool operator==(const VerifierCall&, const VerifierCall&) = default;
};

/// Records every call and returns a bit of a hash of the group name and the
/// credential, so the same call always gets the same result.
class RecordingVerifier final : public policy::Verifier {
 public:
  bool verifyPassword(const ir::Group& g, std::string_view user,
                      std::string_view password) override {
    calls.push_back({'p', &g, nullptr, std::string(user), std::string(password), 0});
    return answer(g.name, user, password);
  }
  bool verifyBearer(const ir::Group& g, std::string_view token) override {
    calls.push_back({'b', &g, nullptr, std::string(token), {}, 0});
    return answer(g.name, token, "bearer");
  }
  bool verifyJwt(const ir::Group& g, const ir::Realm& realm, std::string_view token,
                 int64_t now) override {
    calls.push_back({'j', &g, &realm, std::string(token), {}, now});
    return answer(g.name, token, "jwt");
  }

  std::vector<VerifierCall> calls;

 private:
  static bool answer(std::string_view group, std::string_view a, std::string_view b) {
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (std::string_view part : {group, a, b}) {
      for (char c : part) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
      h = (h ^ 0xff) * 0x100000001b3ULL;
    }
    return (h >> 29) & 1;
  }
};

/// Returns the base seed: HOODY_JIT_SEED when set (to replay a failure), else
/// a random one.
inline uint64_t baseSeed() {
  if (const char* text = std::getenv("HOODY_JIT_SEED")) return std::strtoull(text, nullptr, 0);
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

/// Size limits of a random policy.
struct PolicyShape {
  int max_realms = 3;
  int max_blocks = 4;       ///< Per realm.
  int max_containers = 24;  ///< Per realm.
  int max_groups = 6;       ///< Per block.
  int max_cidrs = 8;        ///< Per group and address family.
};

/// Random policies and requests from one seed.
class RandomCases {
 public:
  explicit RandomCases(uint64_t seed) : rng_(seed) {}

  std::shared_ptr<ir::Policy> policy(const PolicyShape& shape);

  /// A request against `policy` with its own credentials storage.
  struct Request {
    policy::RequestFacts facts;
    std::string path;
    policy::Credentials credentials;
    bool has_credentials = false;
  };
  /// Fills `request` (facts point into it, so it must not move afterwards).
  void request(const ir::Policy& policy, Request& request);

  std::mt19937_64& rng() { return rng_; }

 private:
  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return below(100) < static_cast<uint64_t>(percent); }

  ir::Group group(const PolicyShape& shape, int index);
  ir::Grant grant();
  void addCidrs(ir::IpSet& set, int max_cidrs);
  ir::IpAddress address(const ir::PermissionBlock* block);
  std::string path(const ir::PermissionBlock* block);
  void credentials(Request& request);

  std::mt19937_64 rng_;
  // (realm, container) of every container of the last policy seen.
  const ir::Policy* known_for_ = nullptr;
  std::vector<std::pair<size_t, size_t>> known_;
};

inline std::string describe(const policy::Decision& d) {
  return std::string(policy::outcomeName(d.outcome)) + " realm=" + std::to_string(d.realm) +
         " container=" + std::to_string(d.container) + " group=" + std::to_string(d.group) +
         " challenges=" + std::to_string(d.challenges) + " reason=\"" + d.reason + "\"";
}

inline std::string describe(const policy::RequestFacts& f) {
  std::string ids;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t byte : f.host.container) ids += {kDigits[byte >> 4], kDigits[byte & 15]};
  ids += '-';
  for (uint8_t byte : f.host.project) ids += {kDigits[byte >> 4], kDigits[byte & 15]};
  std::string text = ids + " service=" + std::string(ir::serviceName(f.host.service)) +
                     " method=" + std::string(ir::methodName(f.method)) + " path=\"" +
                     std::string(f.path) + "\" client=" + net::formatAddress(f.client) +
                     (f.client.is_v4 ? "" : " (v6)") + " now=" + std::to_string(f.now);
  if (f.credentials) {
    text += " credentials=" + std::to_string(static_cast<int>(f.credentials->kind)) + " user=\"" +
            f.credentials->user + "\" password=\"" + f.credentials->password + "\" token=\"" +
            f.credentials->token + "\"";
  }
  return text;
}

inline std::string compareDecisions(const policy::Decision& interpreted,
                                    const policy::Decision& jitted) {
  if (interpreted.outcome == jitted.outcome && interpreted.realm == jitted.realm &&
      interpreted.container == jitted.container && interpreted.group == jitted.group &&
      interpreted.challenges == jitted.challenges && interpreted.reason == jitted.reason) {
    return {};
  }
  return "interpreter: " + describe(interpreted) + "\njit:         " + describe(jitted);
}

// --- Random policies ---------------------------------------------------------

namespace detail {

// Networks most random CIDRs start from, so ranges of different groups
// overlap and requests land near their edges.
inline constexpr uint32_t kV4Bases[] = {0x0a000000u, 0xc0000200u, 0xc6336400u, 0xcb007100u,
                                        0x00000000u, 0xffffff00u, 0x7f000000u};
inline constexpr ir::U128 kV6Bases[] = {{0x20010db800000000ULL, 0},
                                        {0xfe80000000000000ULL, 0},
                                        {0, 0},
                                        {0xffffffffffffffffULL, 0xffffffffffffff00ULL},
                                        {0x20010db8000000ffULL, 0xffff000000000000ULL}};
inline constexpr const char* kPrefixes[] = {"/",     "/admin", "/admin/", "/api",
                                            "/api/v1", "/a",   "/a/b",    "/files/x"};
inline constexpr const char* kNames[] = {"ops", "devops", "monitoring", "world", "staff", "ci"};
inline constexpr const char* kSecrets[] = {"alice", "bob", "s3cret", "hunter2", "tok-1",
                                           "tok-2", "eyJ.a.b", ""};

inline uint32_t maskV4(uint32_t address, int prefix) {
  return prefix == 0 ? 0 : address & (0xffffffffu << (32 - prefix));
}

inline ir::U128 maskV6(ir::U128 address, int prefix) {
  if (prefix == 0) return {};
  if (prefix <= 64) {
    uint64_t mask = prefix == 64 ? ~0ULL : ~0ULL << (64 - prefix);
    return {address.hi & mask, 0};
  }
  uint64_t mask = prefix == 128 ? ~0ULL : ~0ULL << (128 - prefix);
  return {address.hi, address.lo & mask};
}

inline ir::U128 addV6(ir::U128 v, int64_t delta) {
  if (delta >= 0) {
    uint64_t lo = v.lo + static_cast<uint64_t>(delta);
    return {v.hi + (lo < v.lo ? 1 : 0), lo};
  }
  uint64_t d = static_cast<uint64_t>(-delta);
  uint64_t lo = v.lo - d;
  return {v.hi - (lo > v.lo ? 1 : 0), lo};
}

}  // namespace detail

inline ir::Grant RandomCases::grant() {
  ir::Grant g;
  switch (below(4)) {
    case 0: g.services = ir::kAllServices; break;
    case 1: g.services = ir::bit(static_cast<ir::Service>(below(ir::kServiceCount))); break;
    default: g.services = static_cast<ir::ServiceSet>(rng_()) & ir::kAllServices; break;
  }
  switch (below(4)) {
    case 0: g.methods = ir::bit(ir::Method::Get) | ir::bit(ir::Method::Head); break;
    case 1: g.methods = static_cast<ir::MethodSet>(rng_()) & ir::kAllMethods; break;
    default: g.methods = ir::kAllMethods; break;
  }
  if (chance(40)) {
    uint64_t count = 1 + below(3);
    for (uint64_t i = 0; i < count; ++i) {
      g.path_prefixes.push_back(detail::kPrefixes[below(std::size(detail::kPrefixes))]);
    }
  }
  return g;
}

inline void RandomCases::addCidrs(ir::IpSet& set, int max_cidrs) {
  uint64_t v4_count = below(max_cidrs + 1);
  for (uint64_t i = 0; i < v4_count; ++i) {
    net::Cidr c;
    c.network.is_v4 = true;
    c.prefix = chance(10) ? static_cast<int>(below(33)) : 8 + static_cast<int>(below(25));
    uint32_t base = chance(20) ? static_cast<uint32_t>(rng_())
                               : detail::kV4Bases[below(std::size(detail::kV4Bases))] +
                                     static_cast<uint32_t>(below(1u << below(17)));
    c.network.v4 = detail::maskV4(base, c.prefix);
    net::addToSet(set, c);
  }
  uint64_t v6_count = below(max_cidrs + 1);
  for (uint64_t i = 0; i < v6_count; ++i) {
    net::Cidr c;
    c.network.is_v4 = false;
    c.prefix = chance(10) ? static_cast<int>(below(129)) : 16 + static_cast<int>(below(113));
    ir::U128 base = chance(20) ? ir::U128{rng_(), rng_()}
                               : detail::addV6(detail::kV6Bases[below(std::size(detail::kV6Bases))],
                                               static_cast<int64_t>(below(1u << below(17))));
    if (chance(30)) base.hi += below(1u << below(17));
    c.network.v6 = detail::maskV6(base, c.prefix);
    // IPv4-mapped ranges never appear in the IR: lowering writes them as IPv4.
    if (c.network.v6.hi == 0 && (c.network.v6.lo >> 32) == 0xffff) continue;
    net::addToSet(set, c);
  }
}

inline ir::Group RandomCases::group(const PolicyShape& shape, int index) {
  ir::Group g;
  g.name = std::string(detail::kNames[below(std::size(detail::kNames))]) + std::to_string(index);
  static constexpr ir::CredentialKind kKinds[] = {
      ir::CredentialKind::None, ir::CredentialKind::None, ir::CredentialKind::Password,
      ir::CredentialKind::Bearer, ir::CredentialKind::Jwt};
  g.credential = kKinds[below(std::size(kKinds))];
  g.has_ip = g.credential == ir::CredentialKind::None ? chance(85) : chance(40);
  if (g.has_ip) addCidrs(g.ip, shape.max_cidrs);
  uint64_t grants = chance(5) ? 0 : 1 + below(3);
  for (uint64_t i = 0; i < grants; ++i) g.grants.push_back(grant());
  return g;
}

inline std::shared_ptr<ir::Policy> RandomCases::policy(const PolicyShape& shape) {
  known_for_ = nullptr;  // A new policy may reuse the address of a freed one.
  auto policy = std::make_shared<ir::Policy>();
  uint64_t realms = 1 + below(shape.max_realms);
  for (uint64_t r = 0; r < realms; ++r) {
    ir::Realm realm;
    realm.name = "realm" + std::to_string(r);
    uint64_t blocks = 1 + below(shape.max_blocks);
    for (uint64_t b = 0; b < blocks; ++b) {
      ir::PermissionBlock block;
      block.origin = (b == 0 ? "project p" : "container c") + std::to_string(b);
      block.default_allow = chance(60) ? ir::kNoServices
                                       : static_cast<ir::ServiceSet>(rng_()) & ir::kAllServices;
      uint64_t groups = below(shape.max_groups + 1);
      for (uint64_t g = 0; g < groups; ++g) block.groups.push_back(group(shape, static_cast<int>(g)));
      realm.blocks.push_back(std::move(block));
    }
    uint64_t containers = below(shape.max_containers + 1);
    ir::Id96 project{};
    for (uint64_t c = 0; c < containers; ++c) {
      ir::Container container;
      container.name = "c" + std::to_string(c);
      for (auto& byte : container.id) byte = static_cast<uint8_t>(rng_());
      if (c == 0 || chance(30)) {
        for (auto& byte : project) byte = static_cast<uint8_t>(rng_());
      }
      container.project_id = project;
      container.block = static_cast<uint32_t>(below(blocks));
      container.maintenance = chance(10);
      realm.containers.push_back(container);
    }
    policy->realms.push_back(std::move(realm));
  }
  return policy;
}

inline ir::IpAddress RandomCases::address(const ir::PermissionBlock* block) {
  std::vector<const ir::Group*> with_ranges;
  if (block) {
    for (const auto& g : block->groups) {
      if (g.has_ip && !g.ip.empty()) with_ranges.push_back(&g);
    }
  }
  ir::IpAddress a;
  if (!with_ranges.empty() && chance(75)) {
    const ir::IpSet& set = with_ranges[below(with_ranges.size())]->ip;
    bool v4 = set.v6.empty() || (!set.v4.empty() && chance(50));
    int64_t delta = 0;
    switch (below(6)) {
      case 0: delta = -1; break;
      case 1: delta = 1; break;
      default: break;
    }
    bool at_last = chance(50);
    if (v4) {
      const ir::V4Range& r = set.v4[below(set.v4.size())];
      uint32_t edge = at_last ? r.last : r.first;
      a.is_v4 = true;
      a.v4 = chance(20) ? r.first + static_cast<uint32_t>(below(uint64_t{r.last - r.first} + 1))
                        : edge + static_cast<uint32_t>(delta);
    } else {
      const ir::V6Range& r = set.v6[below(set.v6.size())];
      a.is_v4 = false;
      a.v6 = detail::addV6(at_last ? r.last : r.first, delta);
    }
  } else if (chance(50)) {
    a.is_v4 = true;
    a.v4 = chance(50) ? static_cast<uint32_t>(rng_())
                      : detail::kV4Bases[below(std::size(detail::kV4Bases))] +
                            static_cast<uint32_t>(below(512));
  } else {
    a.is_v4 = false;
    a.v6 = chance(50) ? ir::U128{rng_(), rng_()}
                      : detail::addV6(detail::kV6Bases[below(std::size(detail::kV6Bases))],
                                      static_cast<int64_t>(below(512)) - 256);
  }
  // An IPv4 client reached over IPv6 arrives as a mapped address, which the
  // address parser turns into IPv4.
  if (a.is_v4 && chance(10)) {
    auto mapped = net::parseAddress("::ffff:" + net::formatAddress(a));
    if (mapped) a = *mapped;
  }
  return a;
}

inline std::string RandomCases::path(const ir::PermissionBlock* block) {
  std::vector<std::string> prefixes(std::begin(detail::kPrefixes), std::end(detail::kPrefixes));
  if (block) {
    for (const auto& g : block->groups) {
      for (const auto& grant : g.grants) {
        prefixes.insert(prefixes.end(), grant.path_prefixes.begin(), grant.path_prefixes.end());
      }
    }
  }
  std::string p = prefixes[below(prefixes.size())];
  switch (below(7)) {
    case 0: return p;
    case 1: return p + "/";
    case 2: return p + "/x";
    case 3: return p + "x";
    case 4: return p.size() > 1 ? p.substr(0, p.size() - 1) : p;
    case 5: return "/other/path";
    default: return chance(50) ? "/" : p + "/deeper/file.txt";
  }
}

inline void RandomCases::credentials(Request& request) {
  using Kind = policy::Credentials::Kind;
  auto secret = [&] { return std::string(detail::kSecrets[below(std::size(detail::kSecrets))]); };
  request.has_credentials = !chance(20);
  policy::Credentials& c = request.credentials;
  c = {};
  switch (below(5)) {
    case 0: c.kind = Kind::None; break;
    case 1: c.kind = Kind::Basic; c.user = secret(); c.password = secret(); break;
    case 2:
    case 3: c.kind = Kind::Bearer; c.token = secret(); break;
    default: c.kind = Kind::Invalid; break;
  }
}

inline void RandomCases::request(const ir::Policy& policy, Request& request) {
  if (known_for_ != &policy) {
    known_.clear();
    for (size_t r = 0; r < policy.realms.size(); ++r) {
      for (size_t c = 0; c < policy.realms[r].containers.size(); ++c) known_.emplace_back(r, c);
    }
    known_for_ = &policy;
  }
  const auto& known = known_;

  policy::HostKey& host = request.facts.host;
  const ir::PermissionBlock* block = nullptr;
  if (known.empty() || chance(12)) {
    for (auto& byte : host.container) byte = static_cast<uint8_t>(rng_());
    for (auto& byte : host.project) byte = static_cast<uint8_t>(rng_());
  } else {
    auto [r, c] = known[below(known.size())];
    const ir::Realm& realm = policy.realms[r];
    const ir::Container& container = realm.containers[c];
    block = &realm.blocks[container.block];
    host.container = container.id;
    host.project = container.project_id;
    if (chance(8)) {
      // A known container ID with another container's project ID.
      auto [r2, c2] = known[below(known.size())];
      host.project = policy.realms[r2].containers[c2].project_id;
    } else if (chance(5)) {
      // One flipped bit anywhere in the 24 key bytes.
      uint64_t bit = below(24 * 8);
      auto& bytes = bit < 96 ? host.container : host.project;
      bytes[(bit % 96) / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
  }

  host.service = static_cast<ir::Service>(below(ir::kServiceCount));
  host.instance = 1;
  request.facts.method = static_cast<ir::Method>(below(ir::kMethodCount));
  request.path = path(block);
  request.facts.path = request.path;
  request.facts.client = address(block);
  credentials(request);
  request.facts.credentials = request.has_credentials ? &request.credentials : nullptr;
  request.facts.now = 1700000000 + static_cast<int64_t>(below(1000));
}

}  // namespace hoody::jit::testing
