// SPDX-License-Identifier: Apache-2.0
// HTTP/2 over a client TLS connection with nghttp2: one server session per
// connection, each stream an exchange.
//
// Limits: at most 100 concurrent streams. SETTINGS_MAX_HEADER_LIST_SIZE is
// 64 KiB and is enforced on the decoded size during HPACK decoding: a larger
// list gets 431, and one four times larger resets the stream. Each
// RST_STREAM from the client takes a token from a bucket (burst 1000, 33 per
// second), and an empty bucket ends the connection with
// GOAWAY(ENHANCE_YOUR_CALM). Streams start only after the whole read buffer
// was processed, so a stream reset in the same read never reaches the
// decision or an upstream. Request bodies use manual flow control, so window
// updates are sent only for bytes written upstream.
//
// Timeouts: a header block still open after the request-head timeout ends
// the connection with GOAWAY(PROTOCOL_ERROR), because no other frame may
// follow an open header block. A stream whose response is complete while
// its request body still arrives no longer makes the connection busy. Its
// body is read and dropped until the request ends, for at most the
// request-body timeout and 16 MiB, and then the stream gets
// RST_STREAM(NO_ERROR) (RFC 9113 section 8.1). Resetting at once would be
// allowed too, but curl 7.88 then reports an error instead of the response
// it already received. Only request and response frames count as
// activity for the idle timeout: PING, SETTINGS or WINDOW_UPDATE alone do
// not keep a connection open.
#pragma once

#include <ev.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/http2/reset_limiter.h"
#include "runtime/proxy/exchange.h"
#include "runtime/proxy/session.h"

namespace hoody::proxy {

class ClientConnection;

class Http2Session final : public Session {
 public:
  /// Creates the nghttp2 session and queues the server SETTINGS. Returns
  /// nullptr when nghttp2 cannot allocate it.
  static std::unique_ptr<Http2Session> create(ClientConnection& connection);
  ~Http2Session() override;

  // Session
  void onData(const char* data, size_t length) override;
  void fillOutput() override;
  bool finished() const override;
  bool busy() const override;
  double idleSince(double) const override { return last_progress_; }
  void shutdown() override;
  void onClosed() override;

  struct Stream;

 private:
  explicit Http2Session(ClientConnection& connection);
  Stream* findStream(int32_t id);
  void startReadyStreams();
  void startStream(Stream& stream);
  void retireStream(int32_t id);
  void resetStreams(std::vector<int32_t> ids);
  void armDeadlineTimer(double delay);
  void checkDeadlines();
  static void onDeadline(struct ev_loop* loop, ev_timer* w, int revents);

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* user_data);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onDataChunkRecv(nghttp2_session*, uint8_t flags, int32_t stream_id,
                             const uint8_t* data, size_t len, void* user_data);
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data);
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static ssize_t readResponseData(nghttp2_session*, int32_t stream_id, uint8_t* buf,
                                  size_t length, uint32_t* data_flags,
                                  nghttp2_data_source* source, void* user_data);

  ClientConnection& connection_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> retired_;  ///< Closed streams, freed at the next entry.
  std::vector<int32_t> ready_;  ///< Streams whose request head arrived in the current read.
  std::vector<int32_t> to_reset_;  ///< Draining streams past the byte limit.
  ev_timer deadline_timer_;        ///< Runs while a header block is open or a stream drains.
  double last_progress_ = 0;       ///< Loop time of the last request or response frame.
  http2::TokenBucket resets_{http2::kResetBurst, http2::kResetRatePerSecond};
  bool fatal_ = false;
};

}  // namespace hoody::proxy
