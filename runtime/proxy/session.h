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
  /// True while a request is in progress; the idle timeout does not apply.
  virtual bool busy() const = 0;
  /// Graceful shutdown: finish requests in progress, accept no new ones.
  virtual void shutdown() = 0;
  /// The connection closed; cancel everything in progress.
  virtual void onClosed() = 0;
};

}  // namespace hoody::proxy
