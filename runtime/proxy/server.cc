// SPDX-License-Identifier: Apache-2.0
// Process-level setup, reload and shutdown.
#include "runtime/proxy/server.h"

#include <unistd.h>

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/abi/bundle.h"
#include "runtime/jit/jit_engine.h"
#include "runtime/tls/certificates.h"

namespace hoody::proxy {
namespace {

constexpr int kListenBacklog = 1024;

// The bundle artifact with the LLVM bitcode of the decision functions.
constexpr char kBitcodeArtifact[] = "decision.bc";

size_t countContainers(const ir::Policy& policy) {
  size_t n = 0;
  for (const ir::Realm& realm : policy.realms) n += realm.containers.size();
  return n;
}

// Formats how long creating `engine` took, for the start-up and reload logs.
std::string engineTimes(const jit::JitEngine& engine, std::string_view first_step) {
  const jit::JitStats& stats = engine.stats();
  return fmt::format("{:.1f} ms: {} {:.1f} ms, compile {:.1f} ms", stats.codegen_ms + stats.jit_ms,
                     first_step, stats.codegen_ms, stats.jit_ms);
}

// Compiles the decision functions of the bundle in `dir` from its
// decision.bc and sets `description` to say how. A bundle without one
// (written by an older hoodyc) gets them generated from the decision IR,
// with a warning. A decision.bc that is listed but fails its hash, was built
// for another ABI or policy, or does not compile is an error. Such a bundle
// is damaged or mixed up, and deciding with other code would hide that.
Result<std::shared_ptr<const jit::JitEngine>> loadJitEngine(
    const std::string& dir, const std::shared_ptr<const ir::Policy>& policy,
    std::string* description) {
  Result<std::string> bitcode = bundle::loadArtifact(dir, kBitcodeArtifact);
  if (bitcode) {
    Result<std::shared_ptr<jit::JitEngine>> engine =
        jit::JitEngine::createFromBitcode(*bitcode, policy);
    if (!engine) {
      return makeError(engine.error().code,
                       fmt::format("cannot use `{}/{}`: {}; recompile the bundle with the "
                                   "hoodyc of this release",
                                   dir, kBitcodeArtifact, engine.error().message));
    }
    *description = fmt::format("jit (bitcode from the bundle, {})",
                               engineTimes(**engine, "read bitcode"));
    return std::shared_ptr<const jit::JitEngine>(std::move(*engine));
  }
  if (bitcode.error().code != "missing-artifact") {
    return makeError(bitcode.error().code,
                     fmt::format("cannot load the decision functions of the bundle `{}`: {}", dir,
                                 bitcode.error().message));
  }
  spdlog::warn("the bundle `{}` has no {} (an older hoodyc wrote it), so the proxy generates "
               "the decision functions from the decision IR; recompile the bundle to skip this "
               "step",
               dir, kBitcodeArtifact);
  Result<std::shared_ptr<jit::JitEngine>> engine = jit::JitEngine::create(policy);
  if (!engine) {
    return makeError(engine.error().code,
                     fmt::format("cannot generate the decision functions of the bundle `{}`: {}",
                                 dir, engine.error().message));
  }
  *description =
      fmt::format("jit (generated from the decision IR, {})", engineTimes(**engine, "codegen"));
  return std::shared_ptr<const jit::JitEngine>(std::move(*engine));
}

}  // namespace

Result<std::shared_ptr<const PolicySnapshot>> Server::loadSnapshot() {
  Result<ir::Policy> policy = bundle::loadBundle(config_.bundle_dir);
  if (!policy) {
    return makeError(policy.error().code, fmt::format("cannot load the bundle `{}`: {}",
                                                      config_.bundle_dir,
                                                      policy.error().message));
  }
  if (policy->node.empty() || policy->domain.empty()) {
    return makeError("missing-node",
                     fmt::format("the bundle `{}` names no node and domain; compile it with an "
                                 "inventory",
                                 config_.bundle_dir));
  }
  auto shared = std::make_shared<const ir::Policy>(std::move(*policy));
  // The engine comes before the certificates, so a bundle that fails here
  // changes nothing in the state directory.
  std::shared_ptr<const jit::JitEngine> engine;
  std::string engine_description = "interpreter (--interp)";
  if (!config_.use_interpreter) {
    Result<std::shared_ptr<const jit::JitEngine>> loaded =
        loadJitEngine(config_.bundle_dir, shared, &engine_description);
    if (!loaded) return Unexpected<Error>{loaded.error()};
    engine = std::move(*loaded);
  }

  std::vector<std::string> names = tls::containerCertificateNames(shared->node, shared->domain);
  std::vector<std::string> ca_domains = tls::containerCaDomains(shared->node, shared->domain);
  Result<tls::CertificateFiles> files =
      tls::ensureCertificates(config_.state_dir, names, ca_domains);
  if (!files) return Unexpected<Error>{files.error()};
  if (files->replaced_ca) {
    spdlog::warn("replaced the local CA {}: it was not constrained to {}; clients that trusted "
                 "the old CA must trust the new one",
                 files->ca_cert, fmt::join(ca_domains, ", "));
  } else if (files->created_ca) {
    spdlog::info("created a local CA in {} for names under {}", files->ca_cert,
                 fmt::join(ca_domains, ", "));
  }
  if (files->issued_server) {
    spdlog::info("issued the server certificate {} for {}", files->server_cert,
                 fmt::join(names, ", "));
  }
  Result<tls::ContextPtr> context = tls::makeServerContext(files->server_cert, files->server_key);
  if (!context) return Unexpected<Error>{context.error()};
  ca_certificate_ = files->ca_cert;
  std::shared_ptr<PolicySnapshot> snapshot =
      engine ? std::make_shared<PolicySnapshot>(std::move(engine), std::move(*context))
             : std::make_shared<PolicySnapshot>(std::move(shared), std::move(*context));
  snapshot->engine_description = std::move(engine_description);
  return std::shared_ptr<const PolicySnapshot>(std::move(snapshot));
}

Result<std::unique_ptr<Server>> Server::create(ProxyConfig config) {
  if (config.listen.empty()) return makeError("invalid-config", "no listen address given");
  if (config.workers < 1) return makeError("invalid-config", "--workers must be at least 1");
  std::unique_ptr<Server> server(new Server(std::move(config)));
  const ProxyConfig& c = server->config_;

  Result<std::shared_ptr<const PolicySnapshot>> snapshot = server->loadSnapshot();
  if (!snapshot) return Unexpected<Error>{snapshot.error()};
  server->policy_.set(*snapshot);
  spdlog::info("loaded bundle {}: {} realms, {} containers, node {}.containers.{}",
               c.bundle_dir, (*snapshot)->policy->realms.size(),
               countContainers(*(*snapshot)->policy), (*snapshot)->policy->node,
               (*snapshot)->policy->domain);
  spdlog::info("decision engine: {}", (*snapshot)->engine_description);

  Result<std::shared_ptr<observe::AccessLog>> log = observe::AccessLog::open(c.access_log);
  if (!log) return Unexpected<Error>{log.error()};
  server->access_log_ = *log;

  Result<std::unique_ptr<DecisionPool>> decisions =
      DecisionPool::create(c.password_threads, c.password_queue);
  if (!decisions) return Unexpected<Error>{decisions.error()};
  server->decisions_ = std::move(*decisions);

  server->worker_fds_.resize(static_cast<size_t>(c.workers));
  for (const net::Endpoint& requested : c.listen) {
    net::Endpoint endpoint = requested;
    if (endpoint.port() != 0) {
      Result<void> free = net::checkAddressFree(endpoint);
      if (!free) {
        for (auto& fds : server->worker_fds_) {
          for (int open_fd : fds) ::close(open_fd);
        }
        return Unexpected<Error>{free.error()};
      }
    }
    for (int w = 0; w < c.workers; ++w) {
      Result<int> fd = net::openListener(endpoint, kListenBacklog);
      if (!fd) {
        for (auto& fds : server->worker_fds_) {
          for (int open_fd : fds) ::close(open_fd);
        }
        return Unexpected<Error>{fd.error()};
      }
      server->worker_fds_[static_cast<size_t>(w)].push_back(*fd);
      if (w == 0 && endpoint.port() == 0) {
        // The other workers bind the port the kernel picked.
        Result<net::Endpoint> local = net::localEndpoint(*fd);
        if (!local) return Unexpected<Error>{local.error()};
        endpoint.setPort(local->port());
      }
    }
    server->bound_.push_back(endpoint);
  }
  return server;
}

Server::~Server() {
  stop();
  for (auto& fds : worker_fds_) {
    for (int fd : fds) ::close(fd);
  }
}

void Server::start() {
  for (size_t i = 0; i < worker_fds_.size(); ++i) {
    workers_.push_back(std::make_unique<Worker>(static_cast<int>(i), config_, policy_,
                                                access_log_, std::move(worker_fds_[i]),
                                                decisions_.get()));
  }
  worker_fds_.clear();
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    threads_.emplace_back([w] { w->run(); });
  }
}

Result<void> Server::reload() {
  Result<std::shared_ptr<const PolicySnapshot>> snapshot = loadSnapshot();
  if (!snapshot) return Unexpected<Error>{snapshot.error()};
  policy_.set(*snapshot);
  spdlog::info("reloaded bundle {}: {} realms, {} containers; decision engine: {}",
               config_.bundle_dir, (*snapshot)->policy->realms.size(),
               countContainers(*(*snapshot)->policy), (*snapshot)->engine_description);
  return {};
}

void Server::stop() {
  for (auto& worker : workers_) worker->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  workers_.clear();
}

}  // namespace hoody::proxy
