// SPDX-License-Identifier: Apache-2.0
// The protocol layer on top of a client TLS connection: HTTP/1.1 or HTTP/2,
// chosen by ALPN.
#pragma once

#include <cstddef>

namespace hoody::proxy {

class Session {
 public:
  virtual ~Session() = default;
  /// Decrypted bytes from the client.
  virtual void onData(const char* data, size_t length) = 0;
  /// Called before the connection writes, so a session can produce frames
  /// lazily (HTTP/2 serializes only as much as the socket takes).
  virtual void fillOutput() {}
  /// Buffered output fell below the low watermark.
  virtual void onOutputDrained() {}
  /// True once the session has nothing more to send or receive; the
  /// connection closes after flushing.
  virtual bool finished() const = 0;
  /// True while a request waits for its decision, its upstream or a body it
  /// forwards. The idle timeout does not apply then, but the upstream and
  /// request-body timeouts do. A request with an incomplete head does not
  /// make the session busy, because the request-head timeout covers it.
  /// Neither does a request whose response is complete while the client
  /// still sends or reads, so no request can hold a connection forever.
  virtual bool busy() const = 0;
  /// Loop time from which the idle timeout counts, given `last_io`, the last
  /// time the connection read or wrote anything.
  virtual double idleSince(double last_io) const { return last_io; }
  /// Graceful shutdown: finish requests in progress, accept no new ones.
  virtual void shutdown() = 0;
  /// The connection closed; cancel everything in progress.
  virtual void onClosed() = 0;
};

}  // namespace hoody::proxy
