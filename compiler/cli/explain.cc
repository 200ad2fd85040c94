// SPDX-License-Identifier: Apache-2.0
// hoodyc explain and urls: one request's decision, and each container's URLs.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/cli/commands.h"
#include "compiler/cli/front.h"
#include "runtime/abi/address.h"
#include "runtime/auth/auth.h"
#include "runtime/http/path.h"
#include "runtime/jit/jit_engine.h"
#include "runtime/policy/interpreter.h"

namespace hoody::cli {
namespace {

std::string hexId(const ir::Id96& id) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

// Without an inventory the node and domain come from the host itself:
// `<labels>.<node>.containers.<domain>`.
void inferNodeAndDomain(const std::string& host, std::string& node, std::string& domain) {
  std::string h = host;
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t marker = h.find(".containers.");
  if (marker == std::string::npos) return;
  size_t node_start = h.rfind('.', marker - 1);
  if (node_start == std::string::npos) return;
  node = h.substr(node_start + 1, marker - node_start - 1);
  domain = h.substr(marker + 12);
  size_t colon = domain.find(':');
  if (colon != std::string::npos) domain.resize(colon);
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
}

struct Explained {
  int status = 0;
  bool allowed = false;
  std::string reason;
  std::string realm, project, container, service, group;
  std::string www_authenticate;
};

void printExplained(const Explained& e, const ExplainRequest& req, bool json) {
  if (json) {
    auto orNull = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
    nlohmann::json j = {
        {"decision", e.allowed ? "allow" : "deny"},
        {"status", e.status},
        {"group", orNull(e.group)},
        {"realm", orNull(e.realm)},
        {"project", orNull(e.project)},
        {"container", orNull(e.container)},
        {"service", orNull(e.service)},
        {"reason", e.reason},
        {"host", req.host},
        {"client", req.client},
        {"method", req.method},
        {"path", req.path},
        {"www_authenticate", orNull(e.www_authenticate)},
    };
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << (e.allowed ? "allow" : "deny") << " " << e.status << "\n";
  if (!e.container.empty()) {
    std::cout << "  container: " << e.realm << "/" << e.project << "/" << e.container
              << "  service: " << e.service << "\n";
  }
  if (!e.group.empty()) std::cout << "  group: " << e.group << "\n";
  if (!e.www_authenticate.empty()) std::cout << "  www-authenticate: " << e.www_authenticate << "\n";
  std::cout << "  reason: " << e.reason << "\n";
}

// Says why each credential group that could grant the request did not:
// the interpreter only learns "did not verify", which is all the proxy needs
// but too little for someone debugging a token.
std::string describeCredentialFailures(const ir::Realm& realm, const ir::PermissionBlock& block,
                                       const policy::RequestFacts& f) {
  std::string out;
  const policy::Credentials* c = f.credentials;
  for (const auto& g : block.groups) {
    if (g.credential == ir::CredentialKind::None) continue;
    bool covers = false;
    for (const auto& grant : g.grants) {
      covers = covers || policy::grantCovers(grant, f.host.service, f.method, f.path);
    }
    if (!covers || !policy::ipConditionHolds(g, f.client)) continue;
    std::string why;
    bool basic = c && c->kind == policy::Credentials::Kind::Basic;
    bool bearer = c && c->kind == policy::Credentials::Kind::Bearer;
    switch (g.credential) {
      case ir::CredentialKind::Password:
        why = !basic ? "needs HTTP Basic credentials" : "user unknown or password wrong";
        break;
      case ir::CredentialKind::Bearer:
        why = !bearer ? "needs a bearer token" : "token digest matches none of the group's";
        break;
      case ir::CredentialKind::Jwt:
        why = !bearer ? "needs a JWT as a bearer token"
                      : "JWT rejected: " + std::string(auth::jwtFailureName(
                                               auth::verifyJwt(*g.jwt, realm.name, c->token, f.now)));
        break;
      case ir::CredentialKind::None:
        break;
    }
    out += "; group `" + g.name + "` " + why;
  }
  return out;
}

// Decides `facts` with the chosen engine. The JIT engine is compiled for
// this one request, which costs milliseconds but shows what the generated
// code decides.
Result<policy::Decision> decideWith(Engine engine, std::shared_ptr<const ir::Policy> policy,
                                    const policy::RequestFacts& facts,
                                    policy::Verifier& verifier) {
  if (engine == Engine::Interpreter) {
    return policy::Interpreter(std::move(policy)).decide(facts, verifier);
  }
  auto jit = jit::JitEngine::create(std::move(policy));
  if (!jit) return Unexpected<Error>{jit.error()};
  return (*jit)->decide(facts, verifier);
}

}  // namespace

int runExplain(const PolicyInput& input, const ExplainRequest& req) {
  auto client = net::parseAddress(req.client);
  if (!client) {
    std::cerr << "hoodyc: error: --client: " << client.error().message << "\n";
    return kExitUsage;
  }
  if (req.method.empty() || req.method.find_first_of(" \t\r\n") != std::string::npos) {
    std::cerr << "hoodyc: error: --method: `" << req.method << "` is not an HTTP method token\n";
    return kExitUsage;
  }
  if (req.path.empty() || req.path[0] != '/') {
    std::cerr << "hoodyc: error: --path: `" << req.path << "` must start with `/`\n";
    return kExitUsage;
  }
  FrontEnd front = runFront(input, false);
  if (!front.ran) return kExitUsage;
  if (!front.out.ok) {
    std::cerr << driver::renderDiagnostics(front.out, input.color);
    return kExitPolicy;
  }
  auto policy = std::make_shared<ir::Policy>(front.out.policy);
  std::string node = policy->node, domain = policy->domain;
  if (node.empty()) inferNodeAndDomain(req.host, node, domain);

  Explained e;
  policy::ParsedHost host = policy::parseHost(req.host, node, domain);
  if (host.status == policy::HostStatus::Malformed) {
    e.status = 400;
    e.reason = "`" + req.host + "` is not a valid host name";
    printExplained(e, req, input.json);
    return kExitPolicy;
  }
  // The proxy's rule: a server name that is not the same container as a
  // container host is misdirected; for other hosts the 404 comes first.
  if (req.sni && host.status == policy::HostStatus::Ok) {
    policy::ParsedHost sni = policy::parseHost(*req.sni, node, domain);
    if (sni.status != policy::HostStatus::Ok || sni.key.container != host.key.container ||
        sni.key.project != host.key.project) {
      e.status = 421;
      e.reason = "TLS server name `" + *req.sni + "` names a different container than the host";
      printExplained(e, req, input.json);
      return kExitPolicy;
    }
  }
  Result<http::NormalizedTarget> target = http::normalizeTarget(req.path);
  if (!target) {
    e.status = 400;
    e.reason = "the proxy rejects path `" + req.path + "`: " + target.error().message;
    printExplained(e, req, input.json);
    return kExitPolicy;
  }
  if (host.status != policy::HostStatus::Ok) {
    e.status = 404;
    e.reason = "`" + host.canonical + "` is not a container host of node `" + node + "`";
    printExplained(e, req, input.json);
    return kExitPolicy;
  }

  policy::Credentials creds;
  if (req.basic) {
    size_t colon = req.basic->find(':');
    if (colon == std::string::npos) {
      std::cerr << "hoodyc: error: --basic: expected USER:PASSWORD\n";
      return kExitUsage;
    }
    creds.kind = policy::Credentials::Kind::Basic;
    creds.user = req.basic->substr(0, colon);
    creds.password = req.basic->substr(colon + 1);
  } else if (req.bearer || req.jwt) {
    creds = policy::parseAuthorization("Bearer " + (req.bearer ? *req.bearer : *req.jwt));
  }
  policy::RequestFacts f;
  f.host = host.key;
  f.client = *client;
  f.method = ir::methodFromToken(req.method);
  f.path = target->path;
  f.credentials = &creds;
  f.now = req.now.value_or(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  auth::CachingVerifier verifier;
  Result<policy::Decision> decided = decideWith(req.engine, policy, f, verifier);
  if (!decided) {
    std::cerr << "hoodyc: error: --engine jit: " << decided.error().message << "\n";
    return kExitUsage;
  }
  const policy::Decision& d = *decided;

  e.status = policy::statusOf(d.outcome);
  e.allowed = d.outcome == policy::Outcome::Allow;
  e.reason = d.reason;
  if (d.outcome == policy::Outcome::Unauthorized) {
    const ir::Realm& realm = policy->realms[d.realm];
    e.reason += describeCredentialFailures(realm, realm.blocks[realm.containers[d.container].block], f);
  }
  e.service = std::string(ir::serviceName(host.key.service));
  if (d.realm >= 0) {
    const ir::Realm& realm = policy->realms[d.realm];
    const ir::Container& c = realm.containers[d.container];
    e.realm = realm.name;
    e.project = c.project;
    e.container = c.name;
    if (e.allowed) e.group = d.group < 0 ? "default" : realm.blocks[c.block].groups[d.group].name;
    if (d.challenges & policy::kChallengeBasic) {
      e.www_authenticate = "Basic realm=\"" + realm.name + "\", charset=\"UTF-8\"";
    }
    if (d.challenges & policy::kChallengeBearer) {
      if (!e.www_authenticate.empty()) e.www_authenticate += ", ";
      e.www_authenticate += "Bearer realm=\"" + realm.name + "\"";
    }
  }
  printExplained(e, req, input.json);
  return e.allowed ? kExitOk : kExitPolicy;
}

int runUrls(const PolicyInput& input, const std::string& node_flag, const std::string& domain_flag) {
  FrontEnd front = runFront(input, false);
  if (!front.ran) return kExitUsage;
  if (!front.out.ok) {
    std::cerr << driver::renderDiagnostics(front.out, input.color);
    return kExitPolicy;
  }
  const ir::Policy& policy = front.out.policy;
  std::string node = node_flag.empty() ? policy.node : node_flag;
  std::string domain = domain_flag.empty() ? policy.domain : domain_flag;
  const char* env_node = std::getenv("HOODY_NODE");
  const char* env_domain = std::getenv("HOODY_DOMAIN");
  if (node.empty() && env_node) node = env_node;
  if (domain.empty() && env_domain) domain = env_domain;
  if (node.empty() || domain.empty()) {
    std::cerr << "hoodyc: warning: node or domain unknown, printed as `{node}` and `{domain}`; "
                 "pass --inventory FILE, or --node and --domain\n";
    if (node.empty()) node = "{node}";
    if (domain.empty()) domain = "{domain}";
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& realm : policy.realms) {
    for (const auto& c : realm.containers) {
      // With an inventory, the services it deploys; without, every service
      // the container's permissions could let anyone reach.
      std::vector<std::pair<ir::Service, uint32_t>> services;
      if (!c.upstream.ports.empty()) {
        for (const auto& p : c.upstream.ports) services.emplace_back(p.service, p.instance);
      } else {
        const ir::PermissionBlock& block = realm.blocks[c.block];
        ir::ServiceSet set = block.default_allow;
        for (const auto& g : block.groups) {
          for (const auto& grant : g.grants) set |= grant.services;
        }
        for (int s = 0; s < ir::kServiceCount; ++s) {
          if (set & (1u << s)) services.emplace_back(static_cast<ir::Service>(s), 1);
        }
      }
      for (const auto& [service, instance] : services) {
        std::string url = "https://" + hexId(c.id) + "-" + hexId(c.project_id) + "-" +
                          std::string(ir::serviceName(service)) + "-" + std::to_string(instance) +
                          "." + node + ".containers." + domain + "/";
        rows.push_back({{"realm", realm.name}, {"project", c.project}, {"container", c.name},
                        {"service", ir::serviceName(service)}, {"url", url}});
      }
    }
  }
  if (input.json) {
    std::cout << rows.dump(2) << "\n";
  } else {
    for (const auto& row : rows) {
      std::cout << row["realm"].get<std::string>() << "/" << row["project"].get<std::string>()
                << "/" << row["container"].get<std::string>() << " "
                << row["service"].get<std::string>() << "  " << row["url"].get<std::string>()
                << "\n";
    }
  }
  return kExitOk;
}

}  // namespace hoody::cli
