// SPDX-License-Identifier: Apache-2.0
// One accepted client connection: non-blocking TLS on a libev loop, the
// idle timeout, and the protocol session selected by ALPN.
#pragma once

#include <ev.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "runtime/net/socket.h"
#include "runtime/proxy/exchange.h"
#include "runtime/proxy/session.h"
#include "runtime/tls/context.h"

namespace hoody::proxy {

class Worker;

class ClientConnection {
 public:
  ClientConnection(Worker& worker, int fd, const net::Endpoint& peer, tls::ContextPtr tls);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  /// Starts the TLS handshake. Returns false (and closes) when the TLS
  /// object cannot be created.
  bool start();

  // --- Used by sessions ---
  void write(std::string_view data);
  size_t pendingOutput() const { return out_.size() - out_offset_; }
  /// Schedules a flush of buffered output on the next loop iteration.
  void signalWrite();
  void setReadPaused(bool paused);
  /// Closes once all buffered output is written; reads nothing more.
  void closeAfterFlush();
  void close(std::string_view reason);
  bool closed() const { return closed_; }
  /// Shared flag that turns false when the connection is destroyed, for
  /// tasks posted to the loop.
  std::shared_ptr<bool> aliveToken() const { return alive_; }

  const ConnectionInfo& info() const { return info_; }
  Worker& worker() { return worker_; }
  /// Graceful shutdown (SIGTERM): finish requests in progress, then close.
  void beginShutdown();

 private:
  static void onIo(struct ev_loop* loop, ev_io* w, int revents);
  static void onIdleTimer(struct ev_loop* loop, ev_timer* w, int revents);
  void handleIo(int revents);
  void doHandshake();
  void doRead();
  void flush();
  void updateWatchers();
  void lingerThenClose();
  void drainLingering();

  Worker& worker_;
  int fd_;
  tls::ContextPtr tls_;  ///< Keeps the SSL_CTX of this connection alive across reloads.
  SSL* ssl_ = nullptr;
  ConnectionInfo info_;
  std::unique_ptr<Session> session_;
  ev_io read_watcher_;
  ev_io write_watcher_;
  ev_timer idle_timer_;
  double last_activity_ = 0;
  std::string out_;
  size_t out_offset_ = 0;
  bool handshaking_ = true;
  bool read_paused_ = false;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  bool close_after_flush_ = false;
  bool lingering_ = false;  ///< Write side shut down; reading and dropping until EOF.
  size_t lingered_bytes_ = 0;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace hoody::proxy
