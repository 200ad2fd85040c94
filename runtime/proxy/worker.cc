// SPDX-License-Identifier: Apache-2.0
// Worker threads: accept loop, posted tasks and graceful shutdown.
#include "runtime/proxy/worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "runtime/proxy/client_connection.h"

namespace hoody::proxy {
namespace {

// Connections accepted per readiness event before other work gets a turn.
constexpr int kAcceptsPerEvent = 64;

}  // namespace

Worker::Worker(int index, const ProxyConfig& config, PolicyHolder& policy,
               std::shared_ptr<observe::AccessLog> access_log, std::vector<int> listen_fds,
               DecisionPool* decisions)
    : index_(index),
      config_(config),
      policy_(policy),
      access_log_(std::move(access_log)),
      loop_(ev_loop_new(EVFLAG_AUTO)),
      listen_fds_(std::move(listen_fds)),
      decisions_(decisions),
      inbox_(std::make_shared<LoopInbox>(loop_)),
      pool_(config.max_idle_upstream_per_key, config.upstream_idle_timeout_s) {
  for (int fd : listen_fds_) {
    auto w = std::make_unique<ev_io>();
    ev_io_init(w.get(), onAccept, fd, EV_READ);
    w->data = this;
    ev_io_start(loop_, w.get());
    listeners_.push_back(std::move(w));
  }
  ev_init(&task_timer_, onTasks);
  task_timer_.data = this;
  ev_async_init(&stop_async_, onStopSignal);
  stop_async_.data = this;
  ev_async_start(loop_, &stop_async_);
  ev_init(&grace_timer_, onGraceExpired);
  grace_timer_.data = this;
}

Worker::~Worker() {
  connections_.clear();
  pool_.clear();
  tasks_.clear();
  // Decisions still running on the pool find the inbox closed.
  inbox_->close();
  for (auto& w : listeners_) ev_io_stop(loop_, w.get());
  for (int fd : listen_fds_) ::close(fd);
  ev_loop_destroy(loop_);
}

uint64_t Worker::nextConnectionId() {
  // Worker index in the top bits keeps ids unique across workers.
  return (static_cast<uint64_t>(index_) << 40) | ++connection_counter_;
}

int64_t Worker::nowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Worker::run() { ev_run(loop_, 0); }

void Worker::stop() { ev_async_send(loop_, &stop_async_); }

void Worker::post(std::function<void()> task) {
  tasks_.push_back(std::move(task));
  if (!ev_is_active(&task_timer_)) {
    ev_timer_set(&task_timer_, 0., 0.);
    ev_timer_start(loop_, &task_timer_);
  }
}

void Worker::onTasks(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<Worker*>(w->data);
  // Tasks may post more tasks; those run on the next turn.
  std::vector<std::function<void()>> tasks;
  tasks.swap(self->tasks_);
  for (auto& task : tasks) task();
}

void Worker::onAccept(struct ev_loop*, ev_io* w, int) {
  static_cast<Worker*>(w->data)->acceptAll(w->fd);
}

void Worker::acceptAll(int listen_fd) {
  for (int i = 0; i < kAcceptsPerEvent && !stopping_; ++i) {
    net::Endpoint peer;
    peer.length = sizeof(peer.storage);
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer.storage), &peer.length,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::error("worker {}: accept failed: {}", index_, strerror(errno));
      }
      return;
    }
    stats_.accepted.fetch_add(1, std::memory_order_relaxed);
    if (connections_.size() >= config_.max_connections_per_worker) {
      uint64_t n = stats_.rejected_over_limit.fetch_add(1, std::memory_order_relaxed) + 1;
      // Logged for the first rejection and then every 1000th, to bound the noise.
      if (n == 1 || n % 1000 == 0) {
        spdlog::warn("worker {}: connection limit {} reached; closed {} connections so far",
                     index_, config_.max_connections_per_worker, n);
      }
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto connection = std::make_unique<ClientConnection>(*this, fd, peer, policy()->tls);
    ClientConnection* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    raw->start();
  }
}

void Worker::connectionClosed(ClientConnection* connection) {
  post([this, connection] {
    connections_.erase(connection);
    maybeFinishShutdown();
  });
}

void Worker::onStopSignal(struct ev_loop*, ev_async* w, int) {
  static_cast<Worker*>(w->data)->beginShutdown();
}

void Worker::beginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  for (auto& w : listeners_) ev_io_stop(loop_, w.get());
  for (int fd : listen_fds_) ::close(fd);
  listen_fds_.clear();
  std::vector<ClientConnection*> open;
  for (auto& [raw, connection] : connections_) open.push_back(raw);
  for (ClientConnection* c : open) c->beginShutdown();
  grace_timer_.repeat = config_.shutdown_grace_s;
  ev_timer_again(loop_, &grace_timer_);
  post([this] { maybeFinishShutdown(); });
}

void Worker::maybeFinishShutdown() {
  if (!stopping_ || !connections_.empty()) return;
  ev_timer_stop(loop_, &grace_timer_);
  pool_.clear();
  ev_break(loop_, EVBREAK_ALL);
}

void Worker::onGraceExpired(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<Worker*>(w->data);
  ev_timer_stop(self->loop_, w);
  if (!self->connections_.empty()) {
    spdlog::warn("worker {}: closing {} connections still open after the shutdown grace period",
                 self->index_, self->connections_.size());
  }
  std::vector<ClientConnection*> open;
  for (auto& [raw, connection] : self->connections_) open.push_back(raw);
  for (ClientConnection* c : open) c->close("shutdown-timeout");
}

}  // namespace hoody::proxy
