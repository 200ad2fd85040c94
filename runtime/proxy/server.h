// SPDX-License-Identifier: Apache-2.0
// The hoody-proxy process: loads the bundle, prepares certificates and
// listening sockets, runs the workers, reloads and stops them.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/abi/result.h"
#include "runtime/observe/access_log.h"
#include "runtime/proxy/config.h"
#include "runtime/proxy/policy_state.h"
#include "runtime/proxy/worker.h"

namespace hoody::proxy {

class Server {
 public:
  /// Loads the bundle, creates or reuses the certificates, opens the access
  /// log and binds every listen address (one SO_REUSEPORT socket per worker
  /// and address; port 0 is resolved once so all workers share the port).
  static Result<std::unique_ptr<Server>> create(ProxyConfig config);
  ~Server();

  /// The listen addresses with the ports actually bound.
  const std::vector<net::Endpoint>& boundEndpoints() const { return bound_; }
  const std::string& caCertificatePath() const { return ca_certificate_; }

  /// Starts the worker threads.
  void start();
  /// Loads the bundle again and swaps it in; on failure the current policy
  /// keeps serving and the error is returned.
  Result<void> reload();
  /// Stops accepting, lets requests in flight finish (up to the grace
  /// period) and joins the workers.
  void stop();

 private:
  explicit Server(ProxyConfig config) : config_(std::move(config)) {}
  Result<std::shared_ptr<const PolicySnapshot>> loadSnapshot();

  ProxyConfig config_;
  PolicyHolder policy_;
  std::unique_ptr<DecisionPool> decisions_;  ///< Outlives the workers, which use it.
  std::shared_ptr<observe::AccessLog> access_log_;
  std::string ca_certificate_;
  std::vector<net::Endpoint> bound_;
  std::vector<std::vector<int>> worker_fds_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace hoody::proxy
