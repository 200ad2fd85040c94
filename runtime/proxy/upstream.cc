// SPDX-License-Identifier: Apache-2.0
// Upstream TCP connections and the keep-alive pool.
#include "runtime/proxy/upstream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace hoody::proxy {
namespace {

// Bytes read from an upstream per read() call.
constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

std::string_view upstreamEventName(UpstreamEvent event) {
  switch (event) {
    case UpstreamEvent::ConnectFailed: return "connect-failed";
    case UpstreamEvent::ConnectTimeout: return "connect-timeout";
    case UpstreamEvent::Timeout: return "timeout";
    case UpstreamEvent::Closed: return "closed";
    case UpstreamEvent::IoError: return "io-error";
  }
  return "unknown";
}

UpstreamConnection::UpstreamConnection(struct ev_loop* loop, int fd, std::string key)
    : loop_(loop), fd_(fd), key_(std::move(key)) {
  ev_io_init(&read_watcher_, onIo, fd, EV_READ);
  ev_io_init(&write_watcher_, onIo, fd, EV_WRITE);
  read_watcher_.data = this;
  write_watcher_.data = this;
  ev_init(&timer_, onTimer);
  timer_.data = this;
}

Result<std::unique_ptr<UpstreamConnection>> UpstreamConnection::connect(
    struct ev_loop* loop, const net::Endpoint& endpoint, std::string key,
    double connect_timeout_s) {
  Result<int> fd = net::startConnect(endpoint);
  if (!fd) return Unexpected<Error>{fd.error()};
  std::unique_ptr<UpstreamConnection> c(new UpstreamConnection(loop, *fd, std::move(key)));
  // Writability signals the end of the connect.
  ev_io_start(loop, &c->write_watcher_);
  c->timer_.repeat = connect_timeout_s;
  ev_timer_again(loop, &c->timer_);
  return c;
}

UpstreamConnection::~UpstreamConnection() {
  *alive_ = false;
  ev_io_stop(loop_, &read_watcher_);
  ev_io_stop(loop_, &write_watcher_);
  ev_timer_stop(loop_, &timer_);
  ::close(fd_);
}

void UpstreamConnection::attach(UpstreamHandler* handler, double io_timeout_s) {
  handler_ = handler;
  pool_ = nullptr;
  io_timeout_s_ = io_timeout_s;
  read_paused_ = false;
  if (connected_) {
    timer_.repeat = io_timeout_s_;
    ev_timer_again(loop_, &timer_);
  }
  updateWatchers();
}

void UpstreamConnection::detach() {
  handler_ = nullptr;
  ev_timer_stop(loop_, &timer_);
  updateWatchers();
}

void UpstreamConnection::write(std::string_view data) {
  if (failed_) return;
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  out_.append(data);
  if (connected_) ev_io_start(loop_, &write_watcher_);
}

void UpstreamConnection::pauseRead() {
  read_paused_ = true;
  updateWatchers();
}

void UpstreamConnection::resumeRead() {
  if (!read_paused_) return;
  read_paused_ = false;
  updateWatchers();
}

void UpstreamConnection::updateWatchers() {
  if (failed_) return;
  bool want_read = connected_ && (handler_ == nullptr ? pool_ != nullptr : !read_paused_);
  if (want_read) {
    ev_io_start(loop_, &read_watcher_);
  } else {
    ev_io_stop(loop_, &read_watcher_);
  }
  bool want_write = !connected_ || pendingWrite() > 0;
  if (want_write && (handler_ != nullptr || !connected_)) {
    ev_io_start(loop_, &write_watcher_);
  } else {
    ev_io_stop(loop_, &write_watcher_);
  }
}

void UpstreamConnection::onIo(struct ev_loop*, ev_io* w, int revents) {
  auto* self = static_cast<UpstreamConnection*>(w->data);
  std::shared_ptr<bool> alive = self->alive_;
  if (revents & EV_WRITE) self->handleWritable();
  if (*alive && (revents & EV_READ)) self->handleReadable();
}

void UpstreamConnection::onTimer(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<UpstreamConnection*>(w->data);
  if (self->pool_ != nullptr) {
    self->pool_->remove(self);
    return;
  }
  if (!self->connected_) {
    self->fail(UpstreamEvent::ConnectTimeout, "the connect timed out");
  } else {
    self->fail(UpstreamEvent::Timeout, "no progress within the upstream timeout");
  }
}

void UpstreamConnection::fail(UpstreamEvent event, const std::string& detail) {
  if (failed_) return;
  failed_ = true;
  ev_io_stop(loop_, &read_watcher_);
  ev_io_stop(loop_, &write_watcher_);
  ev_timer_stop(loop_, &timer_);
  if (handler_ != nullptr) handler_->onUpstreamEnded(event, detail);
}

void UpstreamConnection::handleWritable() {
  if (!connected_) {
    int error = net::connectResult(fd_);
    if (error != 0) {
      fail(UpstreamEvent::ConnectFailed, strerror(error));
      return;
    }
    connected_ = true;
    timer_.repeat = io_timeout_s_ > 0 ? io_timeout_s_ : timer_.repeat;
    ev_timer_again(loop_, &timer_);
    updateWatchers();
    std::shared_ptr<bool> alive = alive_;
    if (handler_ != nullptr) handler_->onUpstreamConnected();
    if (!*alive || failed_) return;
  }
  size_t written = 0;
  while (out_offset_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
    if (n > 0) {
      out_offset_ += static_cast<size_t>(n);
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    fail(UpstreamEvent::IoError, fmt::format("write failed: {}", strerror(errno)));
    return;
  }
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  updateWatchers();
  if (written > 0) {
    if (handler_ != nullptr && io_timeout_s_ > 0) ev_timer_again(loop_, &timer_);
    if (handler_ != nullptr) handler_->onUpstreamWritten(written);
  }
}

void UpstreamConnection::handleReadable() {
  if (handler_ == nullptr) {
    // Idle in the pool: any byte or EOF makes the connection unusable.
    if (pool_ != nullptr) pool_->remove(this);
    return;
  }
  std::shared_ptr<bool> alive = alive_;
  char buf[kReadChunk];
  // Bounded so that one fast upstream cannot starve the loop.
  for (int i = 0; i < 4 && !read_paused_ && handler_ != nullptr; ++i) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      if (io_timeout_s_ > 0) ev_timer_again(loop_, &timer_);
      in_.append(buf, static_cast<size_t>(n));
      handler_->onUpstreamData(in_);
      if (!*alive || failed_) return;
      continue;
    }
    if (n == 0) {
      fail(UpstreamEvent::Closed, "the upstream closed the connection");
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    fail(UpstreamEvent::IoError, fmt::format("read failed: {}", strerror(errno)));
    return;
  }
}

void UpstreamConnection::enterPool(UpstreamPool* pool, double idle_timeout_s) {
  handler_ = nullptr;
  pool_ = pool;
  reused_ = true;
  read_paused_ = false;
  in_.clear();
  timer_.repeat = idle_timeout_s;
  ev_timer_again(loop_, &timer_);
  updateWatchers();
}

std::unique_ptr<UpstreamConnection> UpstreamPool::acquire(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  std::unique_ptr<UpstreamConnection> c = std::move(it->second.back());
  it->second.pop_back();
  if (it->second.empty()) idle_.erase(it);
  c->pool_ = nullptr;
  ev_timer_stop(c->loop_, &c->timer_);
  return c;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  if (connection->failed_ || connection->pendingWrite() > 0 || !connection->in_.empty()) return;
  auto& list = idle_[connection->key()];
  if (list.size() >= max_idle_per_key_) {
    // Drop the oldest one to keep the most recently used connections warm.
    list.erase(list.begin());
  }
  connection->enterPool(this, idle_timeout_s_);
  list.push_back(std::move(connection));
}

void UpstreamPool::remove(UpstreamConnection* connection) {
  auto it = idle_.find(connection->key());
  if (it == idle_.end()) return;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(),
                          [&](const auto& c) { return c.get() == connection; });
  if (pos != list.end()) list.erase(pos);
  if (list.empty()) idle_.erase(it);
}

void UpstreamPool::clear() { idle_.clear(); }

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

}  // namespace hoody::proxy
