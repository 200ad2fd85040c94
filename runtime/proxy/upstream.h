// SPDX-License-Identifier: Apache-2.0
// Plain-TCP connections to upstream services and the per-worker keep-alive
// pool they return to.
//
// An UpstreamConnection is owned by the exchange using it, or by the pool
// while idle. It only moves bytes; HTTP framing is the exchange's job.
#pragma once

#include <ev.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/abi/result.h"
#include "runtime/net/socket.h"

namespace hoody::proxy {

class UpstreamPool;

enum class UpstreamEvent : uint8_t {
  ConnectFailed,   ///< The TCP connect failed (refused, unreachable).
  ConnectTimeout,  ///< The connect did not finish in time.
  Timeout,         ///< No progress in either direction for the I/O timeout.
  Closed,          ///< The upstream closed the connection (EOF).
  IoError,         ///< A read or write failed (reset).
};
std::string_view upstreamEventName(UpstreamEvent event);

class UpstreamHandler {
 public:
  virtual ~UpstreamHandler() = default;
  virtual void onUpstreamConnected() = 0;
  /// New bytes were appended to `in`; the handler erases what it consumed.
  virtual void onUpstreamData(std::string& in) = 0;
  /// `written` bytes of queued output reached the socket.
  virtual void onUpstreamWritten(size_t written) = 0;
  /// The connection ended or failed; it is unusable afterwards.
  virtual void onUpstreamEnded(UpstreamEvent event, const std::string& detail) = 0;
};

class UpstreamConnection {
 public:
  /// Starts a non-blocking connect to `endpoint`. Error code: "connect-failed".
  static Result<std::unique_ptr<UpstreamConnection>> connect(struct ev_loop* loop,
                                                             const net::Endpoint& endpoint,
                                                             std::string key,
                                                             double connect_timeout_s);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  /// Routes events to `handler` and arms the inactivity timeout
  /// `io_timeout_s` (after the connect completes).
  void attach(UpstreamHandler* handler, double io_timeout_s);
  void detach();

  /// Queues bytes for the upstream; errors are reported through the handler.
  void write(std::string_view data);
  size_t pendingWrite() const { return out_.size() - out_offset_; }
  void pauseRead();
  void resumeRead();

  bool connected() const { return connected_; }
  /// True when this connection already served a request (came from the pool).
  bool reused() const { return reused_; }
  const std::string& key() const { return key_; }
  int fd() const { return fd_; }

 private:
  friend class UpstreamPool;
  UpstreamConnection(struct ev_loop* loop, int fd, std::string key);
  static void onIo(struct ev_loop* loop, ev_io* w, int revents);
  static void onTimer(struct ev_loop* loop, ev_timer* w, int revents);
  void handleWritable();
  void handleReadable();
  void fail(UpstreamEvent event, const std::string& detail);
  void updateWatchers();
  void enterPool(UpstreamPool* pool, double idle_timeout_s);

  struct ev_loop* loop_;
  int fd_;
  std::string key_;
  ev_io read_watcher_;
  ev_io write_watcher_;
  ev_timer timer_;
  double io_timeout_s_ = 0;
  UpstreamHandler* handler_ = nullptr;
  UpstreamPool* pool_ = nullptr;  ///< Set while idle in the pool.
  std::string out_;
  size_t out_offset_ = 0;
  std::string in_;
  bool connected_ = false;
  bool reused_ = false;
  bool read_paused_ = false;
  bool failed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// Idle keep-alive connections of one worker, per upstream address.
class UpstreamPool {
 public:
  UpstreamPool(size_t max_idle_per_key, double idle_timeout_s)
      : max_idle_per_key_(max_idle_per_key), idle_timeout_s_(idle_timeout_s) {}

  /// Takes the most recently used idle connection for `key`, or nullptr.
  std::unique_ptr<UpstreamConnection> acquire(const std::string& key);
  /// Returns a connection whose last response ended cleanly.
  void release(std::unique_ptr<UpstreamConnection> connection);
  /// Closes every idle connection.
  void clear();
  size_t idleCount() const;

 private:
  friend class UpstreamConnection;
  void remove(UpstreamConnection* connection);

  size_t max_idle_per_key_;
  double idle_timeout_s_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

}  // namespace hoody::proxy
