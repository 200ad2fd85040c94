// SPDX-License-Identifier: Apache-2.0
// The decision thread pool and the loop inbox.
#include "runtime/proxy/decision_pool.h"

#include <algorithm>
#include <exception>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hoody::proxy {

Result<std::unique_ptr<DecisionPool>> DecisionPool::create(size_t threads, size_t max_queued) {
  std::unique_ptr<DecisionPool> pool(new DecisionPool(max_queued));
  try {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
      pool->threads_.emplace_back([p = pool.get()] { p->run(); });
    }
  } catch (const std::system_error& e) {
    pool->stop();
    return makeError("thread-failed",
                     fmt::format("cannot start a password-check thread: {}", e.what()));
  }
  return pool;
}

DecisionPool::~DecisionPool() { stop(); }

void DecisionPool::stop() {
  std::deque<Job> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  // `dropped` goes here, outside the lock: its jobs may own the last
  // reference to a policy snapshot or an inbox.
}

bool DecisionPool::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

size_t DecisionPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void DecisionPool::run() {
  auth::CachingVerifier verifier;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job(verifier);
    } catch (const std::exception& e) {
      // Jobs report their own failures; this catches allocation failures
      // around them, which must not end the thread.
      spdlog::error("a password-check job failed: {}", e.what());
    }
  }
}

LoopInbox::LoopInbox(struct ev_loop* loop) : loop_(loop) {
  ev_async_init(&async_, onAsync);
  async_.data = this;
  ev_async_start(loop_, &async_);
}

LoopInbox::~LoopInbox() = default;

void LoopInbox::post(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  tasks_.push_back(std::move(task));
  ev_async_send(loop_, &async_);
}

void LoopInbox::close() {
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    ev_async_stop(loop_, &async_);
    dropped.swap(tasks_);
  }
}

void LoopInbox::onAsync(struct ev_loop*, ev_async* w, int) {
  auto* self = static_cast<LoopInbox*>(w->data);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    tasks.swap(self->tasks_);
  }
  for (auto& task : tasks) task();
}

}  // namespace hoody::proxy
