// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 over a client TLS connection: strict request parsing, keep-alive
// and pipelining (one exchange at a time, in order), request bodies streamed
// to the exchange, responses framed with Content-Length or chunked.
#pragma once

#include <ev.h>

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/http/http1_parser.h"
#include "runtime/proxy/exchange.h"
#include "runtime/proxy/session.h"

namespace hoody::proxy {

class ClientConnection;

class Http1Session final : public Session, public Downstream {
 public:
  explicit Http1Session(ClientConnection& connection);
  ~Http1Session() override;

  // Session
  void onData(const char* data, size_t length) override;
  void onOutputDrained() override;
  bool finished() const override { return false; }
  bool busy() const override { return exchange_ != nullptr && !exchange_->responseComplete(); }
  void shutdown() override;
  void onClosed() override;

  // Downstream
  void sendContinue() override;
  void sendHead(int status, const http::HeaderList& headers, ResponseBody body) override;
  void sendData(std::string_view data, bool end) override;
  size_t pendingBytes() const override;
  void abortResponse() override;
  void consumedRequestBody(size_t n) override;
  void closeAfterResponse() override { close_after_response_ = true; }

 private:
  void processInput();
  bool startRequest();
  bool feedBody();
  void responseDone();
  void scheduleProcessing();
  void updateReadPause();
  void updateHeadTimer();
  static void onHeadTimeout(struct ev_loop* loop, ev_timer* w, int revents);

  ClientConnection& connection_;
  ev_timer head_timer_;  ///< Runs while a request head is partly received.
  std::string in_;
  std::unique_ptr<Exchange> exchange_;
  http::BodyDecoder body_;
  int minor_version_ = 1;
  bool keep_alive_ = true;
  bool request_body_done_ = true;
  bool response_started_ = false;
  bool response_done_ = false;
  bool chunked_response_ = false;
  bool close_after_response_ = false;
  bool shutting_down_ = false;
  bool processing_scheduled_ = false;
  bool rejected_ = false;
  uint64_t body_in_flight_ = 0;  ///< Request body bytes passed on but not yet written upstream.
  int32_t request_count_ = 0;
};

}  // namespace hoody::proxy
