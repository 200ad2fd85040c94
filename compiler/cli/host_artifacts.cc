// SPDX-License-Identifier: Apache-2.0
// Host artifacts of a bundle: built from the host IR, read back for apply.
#include "compiler/cli/host_artifacts.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "compiler/backend/nft/nft_backend.h"
#include "compiler/backend/seccomp/seccomp_backend.h"
#include "compiler/backend/wireguard/wireguard_config.h"
#include "runtime/abi/address.h"

namespace hoody::cli {
namespace {

using nlohmann::json;

constexpr int kHostPlanVersion = 1;

std::string labelOf(const ir::HostContainer& c) {
  return fmt::format("{}/{}/{}", c.realm, c.project, c.name);
}

}  // namespace

Result<HostBuild> buildHost(const ir::HostPolicy& host) {
  HostBuild build;
  nft::Ruleset ruleset = nft::emitRuleset(host);
  build.artifacts.ruleset = ruleset.text;
  build.artifacts.ruleset_json = ruleset.json;
  build.containers = ruleset.containers.size();
  for (const nft::LeftOut& l : ruleset.left_out) {
    build.notes.push_back(fmt::format("{} is not in the firewall table: {}", l.label, l.reason));
  }
  build.files.push_back({"firewall.nft", ruleset.text, {}});
  build.files.push_back({"firewall.json", ruleset.json, {}});

  json plan = {{"version", kHostPlanVersion},
               {"node", host.node},
               {"firewall", {{"text", "firewall.nft"}, {"json", "firewall.json"}}},
               {"profiles", json::array()},
               {"seccomp", json::array()},
               {"wireguard", json::array()}};
  std::vector<std::string> lxc_by_profile;
  for (const ir::SeccompProfile& profile : host.seccomp_profiles) {
    auto filter = seccomp::buildFilter(profile);
    if (!filter) return Unexpected<Error>{filter.error()};
    std::string bpf_name = "seccomp-" + profile.name + ".bpf";
    std::string lxc_name = "seccomp-" + profile.name + ".lxc";
    build.files.push_back({bpf_name, filter->bpf, {{"instructions", std::to_string(filter->instructions)}}});
    build.files.push_back({lxc_name, filter->lxc, {}});
    plan["profiles"].push_back({{"name", profile.name}, {"bpf", bpf_name}, {"lxc", lxc_name}});
    lxc_by_profile.push_back(filter->lxc);
  }
  build.profiles = host.seccomp_profiles.size();
  for (const ir::HostContainer& c : host.containers) {
    std::string label = labelOf(c);
    if (!c.seccomp_file.empty()) {
      const ir::SeccompProfile& profile = host.seccomp_profiles.at(c.seccomp_profile);
      plan["seccomp"].push_back({{"container", label},
                                 {"profile", profile.name},
                                 {"path", c.seccomp_file},
                                 {"lxc", "seccomp-" + profile.name + ".lxc"}});
      build.artifacts.seccomp.push_back(
          {label, profile.name, c.seccomp_file, lxc_by_profile.at(c.seccomp_profile)});
    }
    if (!c.has_network) continue;
    for (const ir::Exit& exit : c.network.exits) {
      if (exit.kind != ir::Exit::Kind::Wireguard) continue;
      auto config = wireguard::renderConfig(c, exit);
      if (!config) return Unexpected<Error>{config.error()};
      std::string name = "wireguard-" + config->file_name;
      build.files.push_back({name, config->text, {}});
      plan["wireguard"].push_back({{"container", label},
                                   {"interface", exit.interface},
                                   {"config", name},
                                   {"endpoint", net::formatAddress(exit.wireguard.endpoint)},
                                   {"port", exit.wireguard.endpoint_port},
                                   {"public_key", exit.wireguard.public_key},
                                   {"addresses", exit.wireguard.addresses},
                                   {"provider", exit.provider}});
      build.artifacts.wireguard.push_back({label, exit});
    }
  }
  build.files.push_back({"host.json", plan.dump(2) + "\n", {}});
  return build;
}

Result<host::HostArtifacts> loadHost(const std::string& dir) {
  auto text = bundle::loadArtifact(dir, "host.json");
  if (!text) return Unexpected<Error>{text.error()};
  json plan = json::parse(*text, nullptr, false);
  auto bad = [&](std::string_view what) {
    return makeError("bad-host-plan", fmt::format("host.json of bundle {} {}; compile the bundle "
                                                  "again with this hoodyc",
                                                  dir, what));
  };
  if (!plan.is_object() || plan.value("version", 0) != kHostPlanVersion) {
    return bad("has another format version");
  }
  host::HostArtifacts artifacts;
  try {
    auto read = [&](const std::string& name) -> Result<std::string> {
      return bundle::loadArtifact(dir, name);
    };
    auto nft_text = read(plan.at("firewall").at("text").get<std::string>());
    if (!nft_text) return Unexpected<Error>{nft_text.error()};
    auto nft_json = read(plan.at("firewall").at("json").get<std::string>());
    if (!nft_json) return Unexpected<Error>{nft_json.error()};
    artifacts.ruleset = std::move(*nft_text);
    artifacts.ruleset_json = std::move(*nft_json);
    for (const json& s : plan.at("seccomp")) {
      auto lxc = read(s.at("lxc").get<std::string>());
      if (!lxc) return Unexpected<Error>{lxc.error()};
      artifacts.seccomp.push_back({s.at("container").get<std::string>(),
                                   s.at("profile").get<std::string>(),
                                   s.at("path").get<std::string>(), std::move(*lxc)});
    }
    for (const json& w : plan.at("wireguard")) {
      // The configuration is read to check it against the manifest; the
      // exit itself is brought up from the plan's fields.
      auto config = read(w.at("config").get<std::string>());
      if (!config) return Unexpected<Error>{config.error()};
      ir::Exit exit;
      exit.kind = ir::Exit::Kind::Wireguard;
      exit.interface = w.at("interface").get<std::string>();
      exit.provider = w.at("provider").get<std::string>();
      auto endpoint = net::parseAddress(w.at("endpoint").get<std::string>());
      if (!endpoint) return bad("has a WireGuard endpoint that is not an address");
      exit.wireguard.endpoint = *endpoint;
      exit.wireguard.endpoint_port = w.at("port").get<uint16_t>();
      exit.wireguard.public_key = w.at("public_key").get<std::string>();
      exit.wireguard.addresses = w.at("addresses").get<std::vector<std::string>>();
      artifacts.wireguard.push_back({w.at("container").get<std::string>(), std::move(exit)});
    }
  } catch (const json::exception& e) {
    return bad(std::string("is malformed: ") + e.what());
  }
  return artifacts;
}

}  // namespace hoody::cli
