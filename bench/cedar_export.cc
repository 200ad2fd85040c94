// SPDX-License-Identifier: Apache-2.0
// Writes a benchmark case as JSON for the Cedar peer.
#include "bench/cedar_export.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/abi/address.h"

namespace hoody::bench {
namespace {

std::string hex(const uint8_t* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string hostKey(const ir::Id96& container, const ir::Id96& project) {
  return hex(container.data(), container.size()) + "-" + hex(project.data(), project.size());
}

nlohmann::json serviceNames(ir::ServiceSet services) {
  nlohmann::json names = nlohmann::json::array();
  for (int s = 0; s < ir::kServiceCount; ++s) {
    if (services & (1u << s)) names.push_back(ir::serviceName(static_cast<ir::Service>(s)));
  }
  return names;
}

// Splits an inclusive IPv4 range into the fewest CIDR blocks covering it.
void appendCidrs(const ir::V4Range& range, nlohmann::json& out) {
  uint64_t first = range.first;
  const uint64_t last = range.last;
  while (first <= last) {
    int size_bits = first == 0 ? 32 : __builtin_ctzll(first);
    while (size_bits > 0 && first + (uint64_t{1} << size_bits) - 1 > last) --size_bits;
    net::Cidr cidr;
    cidr.network.is_v4 = true;
    cidr.network.v4 = static_cast<uint32_t>(first);
    cidr.prefix = 32 - size_bits;
    out.push_back(net::formatCidr(cidr));
    first += uint64_t{1} << size_bits;
  }
}

// Returns the group as JSON, or an error for conditions not translated.
std::string groupJson(const ir::Group& group, nlohmann::json& out) {
  if (group.grants.size() != 1 || group.grants[0].methods != ir::kAllMethods ||
      !group.grants[0].path_prefixes.empty()) {
    return "group `" + group.name + "` narrows methods or paths, which the export does not cover";
  }
  if (!group.ip.v6.empty() || group.credential == ir::CredentialKind::Password ||
      group.credential == ir::CredentialKind::Jwt) {
    return "group `" + group.name + "` has IPv6 ranges, a password or a JWT condition";
  }
  out = {{"name", group.name}, {"services", serviceNames(group.grants[0].services)}};
  if (group.has_ip) {
    nlohmann::json cidrs = nlohmann::json::array();
    for (const auto& range : group.ip.v4) appendCidrs(range, cidrs);
    out["cidrs"] = cidrs;
  }
  if (group.credential == ir::CredentialKind::Bearer) {
    nlohmann::json digests = nlohmann::json::array();
    for (const auto& d : group.bearer_sha256) digests.push_back(hex(d.data(), d.size()));
    out["bearer_sha256"] = digests;
  }
  return {};
}

}  // namespace

std::string exportCedarCase(const std::string& dir, const std::string& label,
                            const BenchPolicy& policy, const Requests& requests,
                            const policy::Interpreter& interpreter) {
  nlohmann::json templates = nlohmann::json::array();
  for (size_t t = 0; t < policy.templates.size(); ++t) {
    const ir::PermissionBlock& block = policy.templates[t];
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& group : block.groups) {
      nlohmann::json g;
      std::string error = groupJson(group, g);
      if (!error.empty()) return error;
      groups.push_back(std::move(g));
    }
    templates.push_back({{"id", "t" + std::to_string(t)},
                         {"default_allow", serviceNames(block.default_allow)},
                         {"groups", groups}});
  }

  const ir::Realm& realm = policy.policy->realms[0];
  nlohmann::json containers = nlohmann::json::array();
  for (const auto& c : realm.containers) {
    containers.push_back({hostKey(c.id, c.project_id), policy.block_template[c.block],
                          c.maintenance});
  }

  DigestVerifier verifier;
  nlohmann::json out_requests = nlohmann::json::array();
  size_t count = std::min(kCedarRequests, requests.facts.size());
  for (size_t i = 0; i < count; ++i) {
    const policy::RequestFacts& f = requests.facts[i];
    verifier.present(&requests.token_digests[i]);
    policy::Decision d = interpreter.decide(f, verifier);
    nlohmann::json r = {{"key", hostKey(f.host.container, f.host.project)},
                        {"service", ir::serviceName(f.host.service)},
                        {"method", ir::methodName(f.method)},
                        {"ip", net::formatAddress(f.client)},
                        {"outcome", policy::outcomeName(d.outcome)}};
    if (f.credentials) {
      r["token_sha256"] = hex(requests.token_digests[i].data(), requests.token_digests[i].size());
    }
    if (d.group >= 0) r["group"] = realm.blocks[realm.containers[d.container].block].groups[d.group].name;
    out_requests.push_back(std::move(r));
  }

  std::string name = label;
  std::replace(name.begin(), name.end(), '/', '-');
  std::ofstream file(dir + "/" + name + ".json");
  file << nlohmann::json{{"case", label},
                         {"templates", templates},
                         {"containers", containers},
                         {"requests", out_requests}}
              .dump();
  if (!file.good()) return "cannot write " + dir + "/" + name + ".json";
  return {};
}

}  // namespace hoody::bench
