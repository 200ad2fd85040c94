// SPDX-License-Identifier: Apache-2.0
// Effective-permission descriptions for `hoodyc explain` and debugging.
#include "compiler/lower/describe.h"

#include <fmt/format.h>

#include "runtime/abi/address.h"

namespace hoody::lower {
namespace {

std::string servicesText(ir::ServiceSet set) {
  if (set == ir::kAllServices) return "all services";
  if (set == ir::kNoServices) return "no service";
  std::string out;
  for (int i = 0; i < ir::kServiceCount; ++i) {
    auto s = static_cast<ir::Service>(i);
    if (!(set & ir::bit(s))) continue;
    if (!out.empty()) out += ", ";
    out += ir::serviceName(s);
  }
  return out;
}

std::string methodsText(ir::MethodSet set) {
  std::string out;
  for (int i = 0; i < ir::kMethodCount; ++i) {
    auto m = static_cast<ir::Method>(i);
    if (!(set & ir::bit(m))) continue;
    if (!out.empty()) out += ", ";
    out += ir::methodName(m);
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string conditionsText(const ir::Group& g) {
  std::vector<std::string> parts;
  if (g.has_ip) parts.push_back("ip " + (g.ip.empty() ? std::string("(none)") : join(ipSetToCidrs(g.ip))));
  switch (g.credential) {
    case ir::CredentialKind::None:
      break;
    case ir::CredentialKind::Password: {
      std::vector<std::string> users;
      for (const auto& p : g.passwords) users.push_back(p.user);
      parts.push_back("password (users " + join(users) + ")");
      break;
    }
    case ir::CredentialKind::Bearer:
      parts.push_back(fmt::format("bearer ({} digest{})", g.bearer_sha256.size(),
                                  g.bearer_sha256.size() == 1 ? "" : "s"));
      break;
    case ir::CredentialKind::Jwt: {
      std::string text = "jwt (" + join(g.jwt->algorithms);
      if (!g.jwt->issuer.empty()) text += "; issuer " + g.jwt->issuer;
      if (!g.jwt->audiences.empty()) text += "; audience " + join(g.jwt->audiences);
      parts.push_back(text + ")");
      break;
    }
  }
  if (parts.empty()) return "no conditions (matches every client)";
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " and ") + p;
  return out;
}

// Appends the CIDR blocks that cover [first, last] of a `bits`-wide space.
template <typename T>
void rangeToCidrs(T first, T last, int bits, auto format, std::vector<std::string>& out) {
  while (true) {
    int host = 0;
    // Grow the block while it stays aligned and inside the range.
    while (host < bits) {
      T size_mask = (host + 1 == bits) ? ~T{0} : ((T{1} << (host + 1)) - 1);
      if ((first & size_mask) != 0 || (first | size_mask) > last) break;
      ++host;
    }
    out.push_back(format(first, bits - host));
    T block_last = host == bits ? ~T{0} : (first | ((T{1} << host) - 1));
    if (block_last >= last) break;
    first = block_last + 1;
  }
}

}  // namespace

std::vector<std::string> ipSetToCidrs(const ir::IpSet& set) {
  std::vector<std::string> out;
  for (const ir::V4Range& r : set.v4) {
    rangeToCidrs<uint32_t>(r.first, r.last, 32,
                           [](uint32_t a, int prefix) {
                             net::Cidr c;
                             c.network.is_v4 = true;
                             c.network.v4 = a;
                             c.prefix = prefix;
                             return net::formatCidr(c);
                           },
                           out);
  }
  for (const ir::V6Range& r : set.v6) {
    auto toInt = [](const ir::U128& v) {
      return (static_cast<unsigned __int128>(v.hi) << 64) | v.lo;
    };
    rangeToCidrs<unsigned __int128>(toInt(r.first), toInt(r.last), 128,
                                    [](unsigned __int128 a, int prefix) {
                                      net::Cidr c;
                                      c.network.is_v4 = false;
                                      c.network.v6 = {static_cast<uint64_t>(a >> 64),
                                                      static_cast<uint64_t>(a)};
                                      c.prefix = prefix;
                                      return net::formatCidr(c);
                                    },
                                    out);
  }
  return out;
}

std::string describeEffectivePermissions(const ir::Policy& policy, std::string_view realm_name,
                                         std::string_view container_name) {
  for (const ir::Realm& realm : policy.realms) {
    if (realm.name != realm_name) continue;
    for (const ir::Container& c : realm.containers) {
      if (c.name != container_name) continue;
      const ir::PermissionBlock& block = realm.blocks.at(c.block);
      std::string out = fmt::format("container {} (realm {}, project {}){}\n", c.name, realm.name,
                                    c.project, c.maintenance ? " in maintenance" : "");
      out += fmt::format("  permissions declared on {}\n", block.origin);
      if (block.default_allow == ir::kNoServices) {
        out += "  default: deny\n";
      } else if (block.default_allow == ir::kAllServices) {
        out += "  default: allow\n";
      } else {
        out += fmt::format("  default: allow {}; deny the rest\n", servicesText(block.default_allow));
      }
      if (block.groups.empty()) out += "  groups: none\n";
      for (const ir::Group& g : block.groups) {
        out += fmt::format("  group {}: {}\n", g.name, conditionsText(g));
        if (g.grants.empty()) out += "    grants no service\n";
        for (const ir::Grant& grant : g.grants) {
          std::string line = "    allow " + servicesText(grant.services);
          if (grant.methods != ir::kAllMethods) line += " methods " + methodsText(grant.methods);
          if (!grant.path_prefixes.empty()) line += " paths " + join(grant.path_prefixes);
          out += line + "\n";
        }
        if (g.forward_credentials) out += "    forwards credentials upstream\n";
      }
      return out;
    }
  }
  return {};
}

}  // namespace hoody::lower
