// SPDX-License-Identifier: Apache-2.0
// Host IR -> the `inet hoody` nftables table.
#include "compiler/backend/nft/nft_backend.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "compiler/backend/nft/chain_rules.h"
#include "compiler/backend/nft/rule_model.h"

namespace hoody::nft {
namespace {

using json = nlohmann::json;

constexpr size_t kDigestHexDigits = 16;
constexpr const char* kIngressMap = "ingress";
constexpr const char* kEgressMap = "egress";

struct Chain {
  std::string name;
  std::string hook;  ///< Empty for a regular chain.
  std::vector<Rule> rules;
};

struct MapEntry {
  std::string interface;
  std::string chain;
  std::string comment;
};

std::string sha256Prefix(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), md, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size && hex.size() < kDigestHexDigits; ++i) {
    hex += fmt::format("{:02x}", md[i]);
  }
  return hex;
}

// Returns `digest <hex> <label>`. The digest covers the chain's rules
// without their comments, so moving a rule to another line of the policy
// does not count as a change, plus `salt` (a container's interface).
std::string digestComment(const Chain& chain, const std::string& salt, const std::string& label) {
  std::string content = salt + "\n";
  for (const Rule& rule : chain.rules) content += ruleText(rule, false) + "\n";
  return fmt::format("digest {} {}", sha256Prefix(content), commentText(label, kMaxLabelBytes));
}

void stampDigest(Chain& chain) { chain.rules.back().comment = digestComment(chain, "", chain.name); }

Rule establishedAccept() {
  return makeRule({{Field::CtState, false, {symbolValue("established"), symbolValue("related")}}},
                  Verdict::Accept);
}

Rule vmapRule(Field key, const char* map) {
  Rule rule;
  rule.verdict = Verdict::Vmap;
  rule.vmap_key = key;
  rule.vmap_name = map;
  return rule;
}

Chain forwardChain() {
  Chain chain{"forward", "forward", {}};
  chain.rules.push_back(establishedAccept());
  chain.rules.push_back(
      makeRule({{Field::CtState, false, {symbolValue("invalid")}}}, Verdict::Drop));
  chain.rules.push_back(vmapRule(Field::Iifname, kEgressMap));
  chain.rules.push_back(vmapRule(Field::Oifname, kIngressMap));
  stampDigest(chain);
  return chain;
}

// Neighbour discovery and router solicitation from containers reach the
// host before the egress chains can drop them, or IPv6 stops working.
// Router advertisements and redirects from containers are not accepted: a
// container has no business routing the host.
Chain inputChain() {
  Chain chain{"input", "input", {}};
  chain.rules.push_back(establishedAccept());
  Rule discovery;
  discovery.matches.push_back({Field::Icmpv6Type,
                               false,
                               {symbolValue("nd-router-solicit"), symbolValue("nd-neighbor-solicit"),
                                symbolValue("nd-neighbor-advert")}});
  discovery.matches.push_back({Field::Ip6Hoplimit, false, {numberValue(255)}});
  discovery.verdict = Verdict::Accept;
  chain.rules.push_back(std::move(discovery));
  chain.rules.push_back(vmapRule(Field::Iifname, kEgressMap));
  stampDigest(chain);
  return chain;
}

std::string labelOf(const ir::HostContainer& c) {
  return fmt::format("{}/{}/{}", c.realm, c.project, c.name);
}

// Returns why `name` cannot be used as an interface in nft text, or an
// empty string. nft strings have no escape for `"`, treat `*` as a
// wildcard and `\` as an escape; the kernel limits names to 15 bytes.
std::string interfaceProblem(const std::string& name) {
  if (name.empty()) return "the inventory gives no interface";
  if (name.size() > 15) return fmt::format("interface `{}` is longer than 15 bytes", name);
  for (char c : name) {
    if (c == '"' || c == '\\' || c == '*' || static_cast<unsigned char>(c) <= ' ' || c == 127) {
      return fmt::format("interface `{}` contains a character nftables cannot match literally",
                         name);
    }
  }
  return "";
}

// --- Text -------------------------------------------------------------------

void appendMapText(std::string& out, const char* name, const std::vector<MapEntry>& entries) {
  out += fmt::format("\tmap {} {{\n\t\ttype ifname : verdict\n", name);
  if (!entries.empty()) {
    out += "\t\telements = {\n";
    for (size_t i = 0; i < entries.size(); ++i) {
      const MapEntry& e = entries[i];
      out += fmt::format("\t\t\t\"{}\" comment \"{}\" : jump {}{}\n", e.interface, e.comment,
                         e.chain, i + 1 < entries.size() ? "," : "");
    }
    out += "\t\t}\n";
  }
  out += "\t}\n";
}

void appendChainText(std::string& out, const Chain& chain) {
  out += fmt::format("\n\tchain {} {{\n", chain.name);
  if (!chain.hook.empty()) {
    out += fmt::format("\t\ttype filter hook {} priority filter; policy accept;\n", chain.hook);
  }
  for (const Rule& rule : chain.rules) out += "\t\t" + ruleText(rule) + "\n";
  out += "\t}\n";
}

std::string renderText(const ir::HostPolicy& host, const std::vector<Chain>& chains,
                       const std::vector<MapEntry>& ingress,
                       const std::vector<MapEntry>& egress) {
  std::string out = "# Hoody host firewall, generated by hoodyc from the policy";
  if (!host.node.empty()) out += " for node " + commentText(host.node, kMaxLabelBytes);
  out +=
      ".\n"
      "# It filters only packets that enter or leave a container interface. Packets\n"
      "# the host itself sends to containers (such as the proxy reaching upstreams)\n"
      "# pass the output hook, which hoody leaves alone, and the base chains'\n"
      "# policy is accept so other interfaces are not affected.\n";
  out += fmt::format("table inet {} {{\n", kTableName);
  appendMapText(out, kIngressMap, ingress);
  appendMapText(out, kEgressMap, egress);
  for (const Chain& chain : chains) appendChainText(out, chain);
  out += "}\n";
  return out;
}

// --- JSON -------------------------------------------------------------------

json mapJson(const char* name, const std::vector<MapEntry>& entries) {
  json map = {{"family", "inet"}, {"table", kTableName}, {"name", name},
              {"type", "ifname"}, {"map", "verdict"}};
  if (!entries.empty()) {
    json elements = json::array();
    for (const MapEntry& e : entries) {
      json key = {{"elem", {{"val", e.interface}, {"comment", e.comment}}}};
      elements.push_back(json::array({key, {{"jump", {{"target", e.chain}}}}}));
    }
    map["elem"] = elements;
  }
  return {{"map", map}};
}

json chainJson(const Chain& chain) {
  json body = {{"family", "inet"}, {"table", kTableName}, {"name", chain.name}};
  if (!chain.hook.empty()) {
    body["type"] = "filter";
    body["hook"] = chain.hook;
    body["prio"] = 0;
    body["policy"] = "accept";
  }
  return {{"chain", body}};
}

// One command per line keeps the file readable in a diff. Chains come
// before the maps whose elements jump to them, and the maps before the
// rules that look them up: libnftables runs JSON commands in order. Each
// command is dumped as soon as it is built, which keeps memory flat for
// large tables.
std::string renderJson(const std::vector<Chain>& chains, const std::vector<MapEntry>& ingress,
                       const std::vector<MapEntry>& egress) {
  std::string out = "{\"nftables\": [\n";
  auto append = [&out](const json& item) {
    out += item.dump();
    out += ",\n";
  };
  auto append_rule = [&out](const std::string& rule) {
    out += rule;
    out += ",\n";
  };
  append({{"metainfo", {{"json_schema_version", 1}}}});
  append({{"table", {{"family", "inet"}, {"name", kTableName}}}});
  for (const Chain& chain : chains) append(chainJson(chain));
  append(mapJson(kIngressMap, ingress));
  append(mapJson(kEgressMap, egress));
  std::string table(kTableName);
  for (const Chain& chain : chains) {
    for (const Rule& rule : chain.rules) append_rule(ruleJson(rule, table, chain.name));
  }
  out.resize(out.size() - 2);  // The last item takes no comma.
  return out + "\n]}\n";
}

}  // namespace

std::string idHex(const ir::Id96& id) {
  std::string out;
  for (uint8_t b : id) out += fmt::format("{:02x}", b);
  return out;
}

Ruleset emitRuleset(const ir::HostPolicy& host) {
  Ruleset out;
  std::vector<Chain> chains{forwardChain(), inputChain()};
  std::vector<MapEntry> ingress;
  std::vector<MapEntry> egress;
  std::set<std::string> used_interfaces;

  for (const ir::HostContainer& c : host.containers) {
    std::string label = labelOf(c);
    std::string problem = interfaceProblem(c.interface);
    if (problem.empty() && !used_interfaces.insert(c.interface).second) {
      problem = fmt::format("interface `{}` already belongs to an earlier container", c.interface);
    }
    if (!problem.empty()) {
      out.left_out.push_back({label, problem});
      continue;
    }

    std::string id = idHex(c.id);
    Chain in{"in_" + id, "", ingressRules(c)};
    Chain eg{"out_" + id, "", egressRules(c)};
    ingress.push_back({c.interface, in.name, digestComment(in, c.interface, label)});
    egress.push_back({c.interface, eg.name, digestComment(eg, c.interface, label)});
    out.digests[in.name] = ingress.back().comment;
    out.digests[eg.name] = egress.back().comment;
    out.containers.push_back({id, label, c.interface, in.name, eg.name});
    chains.push_back(std::move(in));
    chains.push_back(std::move(eg));
  }

  for (size_t base = 0; base < 2; ++base) out.digests[chains[base].name] = chains[base].rules.back().comment;
  out.chains = chains.size();
  for (const Chain& chain : chains) out.rules += chain.rules.size();
  out.text = renderText(host, chains, ingress, egress);
  out.json = renderJson(chains, ingress, egress);
  return out;
}

}  // namespace hoody::nft
