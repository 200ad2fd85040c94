// SPDX-License-Identifier: Apache-2.0
// Settings of one hoody-proxy process.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "runtime/net/socket.h"

namespace hoody::proxy {

struct ProxyConfig {
  std::string bundle_dir;
  std::vector<net::Endpoint> listen;
  std::string state_dir;
  int workers = 1;
  std::string access_log = "-";  ///< Path, or "-" for standard output.
  /// Decide with the reference interpreter instead of the JIT engine. For
  /// debugging: it needs no decision.bc and no LLVM compile, but decides
  /// more slowly.
  bool use_interpreter = false;

  double idle_timeout_s = 60;               ///< Client connection with no request in progress.
  double request_head_timeout_s = 30;       ///< From the first byte of a request head to its end.
  double request_body_timeout_s = 30;       ///< A forwarded request body that makes no progress.
  double upstream_connect_timeout_s = 5;
  double upstream_response_timeout_s = 60;  ///< No upstream progress while a request waits.
  double upstream_idle_timeout_s = 30;      ///< Pooled idle upstream connection.
  double shutdown_grace_s = 10;             ///< Time in-flight requests get on SIGTERM.
  size_t max_connections_per_worker = 10000;
  size_t max_idle_upstream_per_key = 32;    ///< Pooled connections per upstream address.
  size_t password_threads = 2;  ///< Threads per process for decisions with Basic credentials.
  size_t password_queue = 32;   ///< Such decisions that may wait; more get 503.
};

}  // namespace hoody::proxy
