// SPDX-License-Identifier: Apache-2.0
// Client TLS connections.
#include "runtime/proxy/client_connection.h"

#include <openssl/err.h>
#include <unistd.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

#include "runtime/abi/address.h"
#include "runtime/proxy/http1_session.h"
#include "runtime/proxy/http2_session.h"
#include "runtime/proxy/worker.h"

namespace hoody::proxy {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Largest plaintext handed to one SSL_write call.
constexpr size_t kWriteChunk = 64 * 1024;
// Below this many buffered bytes the session is told to produce more.
constexpr size_t kOutputLowWatermark = 64 * 1024;
// Reads per readiness event before yielding to other connections.
constexpr int kReadsPerEvent = 16;
// After the last response of a connection, bytes the client still sends are
// read and dropped for this long (or up to this many bytes) before the
// socket closes. Closing with unread data makes the kernel send a reset,
// which can destroy the response before the client has read it. The time
// limit bounds how long a connection lingers. The byte limit is high enough
// for a client still sending a rejected upload of a few MiB to read its
// response, and caps the reading work.
constexpr double kLingerSeconds = 2;
constexpr size_t kLingerMaxBytes = 16 * 1024 * 1024;

}  // namespace

ClientConnection::ClientConnection(Worker& worker, int fd, const net::Endpoint& peer,
                                   tls::ContextPtr tls)
    : worker_(worker), fd_(fd), tls_(std::move(tls)) {
  info_.id = worker.nextConnectionId();
  info_.client = net::fromSockaddr(peer.addr());
  info_.client_text = net::formatAddress(info_.client);
  ev_io_init(&read_watcher_, onIo, fd, EV_READ);
  ev_io_init(&write_watcher_, onIo, fd, EV_WRITE);
  read_watcher_.data = this;
  write_watcher_.data = this;
  ev_init(&idle_timer_, onIdleTimer);
  idle_timer_.data = this;
}

ClientConnection::~ClientConnection() {
  *alive_ = false;
  if (!closed_) {
    ev_io_stop(worker_.loop(), &read_watcher_);
    ev_io_stop(worker_.loop(), &write_watcher_);
    ev_timer_stop(worker_.loop(), &idle_timer_);
    ::close(fd_);
  }
  // The session (and its exchanges) go first: they refer to info_.
  session_.reset();
  if (ssl_ != nullptr) SSL_free(ssl_);
}

bool ClientConnection::start() {
  ssl_ = SSL_new(tls_.get());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    spdlog::error("[C{}] cannot create a TLS session: {}", info_.id, tls::lastErrorString());
    close("tls-setup-failed");
    return false;
  }
  SSL_set_accept_state(ssl_);
  last_activity_ = ev_now(worker_.loop());
  idle_timer_.repeat = worker_.config().idle_timeout_s;
  ev_timer_again(worker_.loop(), &idle_timer_);
  ev_io_start(worker_.loop(), &read_watcher_);
  return true;
}

void ClientConnection::onIo(struct ev_loop*, ev_io* w, int revents) {
  static_cast<ClientConnection*>(w->data)->handleIo(revents);
}

void ClientConnection::handleIo(int revents) {
  if (closed_) return;
  if (lingering_) {
    drainLingering();
    return;
  }
  std::shared_ptr<bool> alive = alive_;
  if (handshaking_) {
    doHandshake();
    if (!*alive || closed_ || handshaking_) return;
  }
  if ((revents & EV_READ) || read_wants_write_) {
    read_wants_write_ = false;
    if (!read_paused_ && !close_after_flush_) doRead();
    if (closed_) return;
  }
  flush();
  if (closed_) return;
  updateWatchers();
}

void ClientConnection::doHandshake() {
  ERR_clear_error();
  int rv = SSL_do_handshake(ssl_);
  if (rv != 1) {
    int err = SSL_get_error(ssl_, rv);
    if (err == SSL_ERROR_WANT_READ) {
      ev_io_stop(worker_.loop(), &write_watcher_);
      return;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
      ev_io_start(worker_.loop(), &write_watcher_);
      return;
    }
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("[C{}] TLS handshake with {} failed: {}", info_.id, info_.client_text,
                    tls::lastErrorString());
    }
    ERR_clear_error();
    close("tls-handshake-failed");
    return;
  }
  handshaking_ = false;
  last_activity_ = ev_now(worker_.loop());
  info_.sni = std::string(tls::serverName(ssl_));
  info_.h2 = tls::negotiatedProtocol(ssl_) == tls::AppProtocol::Http2;
  if (info_.h2) {
    std::unique_ptr<Http2Session> h2 = Http2Session::create(*this);
    if (!h2) {
      close("http2-setup-failed");
      return;
    }
    session_ = std::move(h2);
  } else {
    session_ = std::make_unique<Http1Session>(*this);
  }
  if (worker_.stopping()) session_->shutdown();
  // Data may already sit in OpenSSL's buffer with the socket drained.
  ev_feed_event(worker_.loop(), &read_watcher_, EV_READ);
  ev_io_start(worker_.loop(), &write_watcher_);
}

void ClientConnection::doRead() {
  std::shared_ptr<bool> alive = alive_;
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    if (read_paused_ || close_after_flush_ || closed_) return;
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      last_activity_ = ev_now(worker_.loop());
      session_->onData(buf, static_cast<size_t>(n));
      if (!*alive || closed_) return;
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) return;
    if (err == SSL_ERROR_WANT_WRITE) {
      read_wants_write_ = true;
      return;
    }
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
      close("client-closed");
      return;
    }
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("[C{}] TLS read failed: {}", info_.id, tls::lastErrorString());
    }
    ERR_clear_error();
    close("tls-read-failed");
    return;
  }
  // Still readable, possibly from OpenSSL's own buffer: continue next turn.
  ev_feed_event(worker_.loop(), &read_watcher_, EV_READ);
}

void ClientConnection::write(std::string_view data) {
  if (closed_ || lingering_) return;
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  out_.append(data);
  signalWrite();
}

void ClientConnection::signalWrite() {
  if (!closed_ && !lingering_ && !handshaking_) ev_io_start(worker_.loop(), &write_watcher_);
}

void ClientConnection::flush() {
  if (handshaking_ || session_ == nullptr) return;
  std::shared_ptr<bool> alive = alive_;
  write_wants_read_ = false;
  for (int round = 0; round < 64; ++round) {
    session_->fillOutput();
    if (!*alive || closed_) return;
    if (pendingOutput() == 0) break;
    while (out_offset_ < out_.size()) {
      ERR_clear_error();
      size_t len = std::min(out_.size() - out_offset_, kWriteChunk);
      int n = SSL_write(ssl_, out_.data() + out_offset_, static_cast<int>(len));
      if (n > 0) {
        out_offset_ += static_cast<size_t>(n);
        last_activity_ = ev_now(worker_.loop());
        continue;
      }
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_WRITE) break;
      if (err == SSL_ERROR_WANT_READ) {
        write_wants_read_ = true;
        break;
      }
      ERR_clear_error();
      close("tls-write-failed");
      return;
    }
    if (out_offset_ < out_.size()) break;  // The socket is full.
    out_.clear();
    out_offset_ = 0;
  }
  if (pendingOutput() < kOutputLowWatermark) {
    session_->onOutputDrained();
    if (!*alive || closed_) return;
  }
  if (pendingOutput() == 0 && (close_after_flush_ || session_->finished())) lingerThenClose();
}

void ClientConnection::lingerThenClose() {
  ERR_clear_error();
  SSL_shutdown(ssl_);  // close_notify; the peer's reply is not awaited.
  ERR_clear_error();
  if (::shutdown(fd_, SHUT_WR) != 0) {
    close("done");
    return;
  }
  lingering_ = true;
  ev_io_stop(worker_.loop(), &write_watcher_);
  ev_io_start(worker_.loop(), &read_watcher_);
  idle_timer_.repeat = kLingerSeconds;
  ev_timer_again(worker_.loop(), &idle_timer_);
}

void ClientConnection::drainLingering() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      lingered_bytes_ += static_cast<size_t>(n);
      if (lingered_bytes_ > kLingerMaxBytes) {
        close("linger-limit");
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close("done");  // EOF or error.
    return;
  }
  // More bytes may wait. The read watcher fires again on the next loop turn
  // (libev watchers are level-triggered), and the linger timer still bounds
  // the whole drain.
}

void ClientConnection::updateWatchers() {
  if (closed_ || handshaking_ || lingering_) return;
  bool want_read = (!read_paused_ && !close_after_flush_) || write_wants_read_;
  if (want_read) {
    ev_io_start(worker_.loop(), &read_watcher_);
  } else {
    ev_io_stop(worker_.loop(), &read_watcher_);
  }
  if (pendingOutput() > 0 || read_wants_write_) {
    ev_io_start(worker_.loop(), &write_watcher_);
  } else {
    ev_io_stop(worker_.loop(), &write_watcher_);
  }
}

void ClientConnection::setReadPaused(bool paused) {
  if (read_paused_ == paused || closed_ || lingering_) return;
  read_paused_ = paused;
  if (!paused) ev_feed_event(worker_.loop(), &read_watcher_, EV_READ);
  updateWatchers();
}

void ClientConnection::closeAfterFlush() {
  close_after_flush_ = true;
  signalWrite();
}

void ClientConnection::beginShutdown() {
  if (closed_ || lingering_) return;
  if (handshaking_ || session_ == nullptr) {
    close("shutdown");
    return;
  }
  session_->shutdown();
  signalWrite();
}

void ClientConnection::close(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  ev_io_stop(worker_.loop(), &read_watcher_);
  ev_io_stop(worker_.loop(), &write_watcher_);
  ev_timer_stop(worker_.loop(), &idle_timer_);
  if (!handshaking_ && !lingering_ && ssl_ != nullptr) {
    // Best effort close_notify; the socket is non-blocking and closes next.
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::close(fd_);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("[C{}] closed: {}", info_.id, reason);
  }
  if (session_) session_->onClosed();
  worker_.connectionClosed(this);
}

void ClientConnection::onIdleTimer(struct ev_loop* loop, ev_timer* w, int) {
  auto* self = static_cast<ClientConnection*>(w->data);
  if (self->closed_) return;
  if (self->lingering_) {
    self->close("done");
    return;
  }
  double idle = self->worker_.config().idle_timeout_s;
  double since = self->last_activity_;
  if (self->session_ != nullptr) since = self->session_->idleSince(since);
  double quiet = ev_now(loop) - since;
  bool busy = self->session_ != nullptr && self->session_->busy();
  if (!busy && quiet >= idle) {
    self->close("idle-timeout");
    return;
  }
  w->repeat = busy ? idle : idle - quiet;
  ev_timer_again(loop, w);
}

}  // namespace hoody::proxy
