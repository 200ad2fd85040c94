// SPDX-License-Identifier: Apache-2.0
// Threads that run policy decisions needing a password-hash verification,
// and the inbox that hands their results back to a worker's event loop.
//
// Password hashes (argon2id, scrypt) are slow on purpose. Verified on a
// worker's event loop, each wrong password would stall every connection of
// that worker for the whole hash. The pool runs such decisions on a few
// threads of its own. Each thread has its own CachingVerifier, so the cache
// needs no lock. A success cached on one thread is not seen by the others,
// which costs at most one extra hash per thread. At most `max_queued` jobs
// wait; submit() fails beyond that, so the caller can respond with 503 instead of
// queueing without bound.
#pragma once

#include <ev.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/abi/result.h"
#include "runtime/auth/auth.h"

namespace hoody::proxy {

class DecisionPool {
 public:
  /// One unit of work; it runs on a pool thread with that thread's verifier.
  using Job = std::function<void(auth::CachingVerifier& verifier)>;

  /// Starts `threads` threads (at least 1). Error code "thread-failed" when
  /// the system cannot start one.
  static Result<std::unique_ptr<DecisionPool>> create(size_t threads, size_t max_queued);
  /// Stops the threads after their current job and drops the queued jobs.
  ~DecisionPool();
  DecisionPool(const DecisionPool&) = delete;
  DecisionPool& operator=(const DecisionPool&) = delete;

  /// Queues `job` for the next free thread. Returns false, and drops the
  /// job, when `max_queued` jobs already wait or the pool is stopping.
  /// Safe to call from any thread.
  bool submit(Job job);

  /// Jobs waiting for a thread, not counting the ones running.
  size_t queued() const;

 private:
  explicit DecisionPool(size_t max_queued) : max_queued_(max_queued) {}
  void run();
  void stop();

  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// Tasks that other threads hand to one libev loop. Held through a
/// shared_ptr, so a task posted after the loop is gone finds the inbox
/// closed instead of freed memory.
class LoopInbox {
 public:
  /// Starts the async watcher on `loop`. Construct it on the loop's thread
  /// or before that loop runs.
  explicit LoopInbox(struct ev_loop* loop);
  ~LoopInbox();
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  /// Queues `task` to run on the loop's thread. Safe to call from any
  /// thread; after close() the task is dropped without running.
  void post(std::function<void()> task);

  /// Stops the watcher and drops waiting tasks. Call it on the loop's
  /// thread (or with the loop stopped) before the loop is destroyed.
  void close();

 private:
  static void onAsync(struct ev_loop* loop, ev_async* w, int revents);

  struct ev_loop* loop_;
  ev_async async_;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  bool closed_ = false;
};

}  // namespace hoody::proxy
