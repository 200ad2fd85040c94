// SPDX-License-Identifier: Apache-2.0
// One worker thread: its own libev loop, its own SO_REUSEPORT listening
// sockets, the client connections it accepted, an upstream connection pool
// and a credential verifier.
//
// Nothing in a worker is shared with other workers except the policy holder,
// the access log and the decision pool. The request path takes one mutex
// per request to copy the policy pointer. A request with Basic credentials
// also takes the pool's queue lock and, when its decision returns, the
// inbox lock.
#pragma once

#include <ev.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/auth/auth.h"
#include "runtime/observe/access_log.h"
#include "runtime/proxy/config.h"
#include "runtime/proxy/decision_pool.h"
#include "runtime/proxy/policy_state.h"
#include "runtime/proxy/upstream.h"

namespace hoody::proxy {

class ClientConnection;

/// Counters a worker keeps; read by tests and logs.
struct WorkerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected_over_limit{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> rapid_reset_goaways{0};
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> pooled_decisions{0};     ///< Decisions run on the decision pool.
  std::atomic<uint64_t> decision_queue_full{0};  ///< Requests answered 503 for a full pool.
};

class Worker {
 public:
  /// `decisions` may be null: every decision then runs on the loop. When
  /// set, it must outlive the worker.
  Worker(int index, const ProxyConfig& config, PolicyHolder& policy,
         std::shared_ptr<observe::AccessLog> access_log, std::vector<int> listen_fds,
         DecisionPool* decisions);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Runs the loop until stop() and the shutdown grace period end.
  void run();
  /// Asks the worker to stop accepting, finish in-flight requests and return
  /// from run(). Safe to call from any thread.
  void stop();

  // --- Used by connections and exchanges on the worker thread ---

  struct ev_loop* loop() const { return loop_; }
  const ProxyConfig& config() const { return config_; }
  std::shared_ptr<const PolicySnapshot> policy() const { return policy_.get(); }
  auth::CachingVerifier& verifier() { return verifier_; }
  /// The pool for decisions that may verify a password hash, or null.
  DecisionPool* decisionPool() const { return decisions_; }
  /// Hands results from other threads back to this worker's loop.
  const std::shared_ptr<LoopInbox>& inbox() const { return inbox_; }
  observe::AccessLog* accessLog() const { return access_log_.get(); }
  UpstreamPool& upstreamPool() { return pool_; }
  WorkerStats& stats() { return stats_; }
  int index() const { return index_; }
  bool stopping() const { return stopping_; }
  uint64_t nextConnectionId();

  /// Runs `task` on this thread after the current callback returns. Used to
  /// destroy objects that may still be on the call stack.
  void post(std::function<void()> task);

  /// Called by a connection once it has closed; the worker destroys it later.
  void connectionClosed(ClientConnection* connection);

  /// Wall-clock time in milliseconds and the loop's monotonic time in seconds.
  static int64_t nowUnixMs();
  double now() const { return ev_now(loop_); }

 private:
  static void onAccept(struct ev_loop* loop, ev_io* w, int revents);
  static void onTasks(struct ev_loop* loop, ev_timer* w, int revents);
  static void onStopSignal(struct ev_loop* loop, ev_async* w, int revents);
  static void onGraceExpired(struct ev_loop* loop, ev_timer* w, int revents);
  void acceptAll(int listen_fd);
  void beginShutdown();
  void maybeFinishShutdown();

  int index_;
  const ProxyConfig& config_;
  PolicyHolder& policy_;
  std::shared_ptr<observe::AccessLog> access_log_;
  struct ev_loop* loop_;
  std::vector<int> listen_fds_;
  std::vector<std::unique_ptr<ev_io>> listeners_;
  ev_timer task_timer_;  ///< Zero-delay timer that runs posted tasks; timers cannot starve.
  ev_async stop_async_;
  ev_timer grace_timer_;
  std::vector<std::function<void()>> tasks_;
  std::unordered_map<ClientConnection*, std::unique_ptr<ClientConnection>> connections_;
  auth::CachingVerifier verifier_;
  DecisionPool* decisions_;
  std::shared_ptr<LoopInbox> inbox_;
  UpstreamPool pool_;
  WorkerStats stats_;
  uint64_t connection_counter_ = 0;
  bool stopping_ = false;
};

}  // namespace hoody::proxy
