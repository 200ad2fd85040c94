// SPDX-License-Identifier: Apache-2.0
// One request and its response, the same for HTTP/1.1 and HTTP/2: host and
// path checks, the policy decision, local error responses, and forwarding to
// the upstream over HTTP/1.1 with streaming in both directions.
//
// A decision that may verify a password hash runs on the worker's decision
// pool; the exchange waits for it and buffers request body bytes meanwhile.
// The buffer is bounded by the front ends' backpressure, because those bytes
// are acknowledged (consumedRequestBody) only once they leave the proxy.
#pragma once

#include <ev.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/abi/decision_ir.h"
#include "runtime/http/headers.h"
#include "runtime/http/http1_parser.h"
#include "runtime/net/socket.h"
#include "runtime/observe/access_log.h"
#include "runtime/policy/decision.h"
#include "runtime/proxy/policy_state.h"
#include "runtime/proxy/upstream.h"

namespace hoody::proxy {

class Worker;

/// Facts about the client connection an exchange arrived on.
struct ConnectionInfo {
  uint64_t id = 0;
  ir::IpAddress client;     ///< IPv4-mapped peers already converted to IPv4.
  std::string client_text;  ///< `client` formatted.
  std::string sni;          ///< Server name the client sent in TLS, or empty.
  bool h2 = false;
};

/// A request head as the front end received it.
struct RequestInfo {
  std::string method;
  std::string target;     ///< Origin-form target (`/path?query`), not yet normalized.
  std::string authority;  ///< HTTP/1.1 Host or HTTP/2 :authority.
  http::HeaderList headers;
  bool has_body = false;  ///< Body bytes may follow.
  std::optional<uint64_t> content_length;
  bool expect_continue = false;
  int32_t stream_id = 0;
};

/// Body framing of a response toward the client.
enum class ResponseBody : uint8_t {
  None,     ///< No body (HEAD, 204, 304, or empty local response).
  Length,   ///< Exactly the Content-Length in the headers.
  Unknown,  ///< Length not known in advance.
};

/// The client side of one exchange, implemented by the HTTP/1.1 connection
/// and by an HTTP/2 stream. Calls never destroy the exchange synchronously.
class Downstream {
 public:
  virtual ~Downstream() = default;
  /// Sends `100 Continue` (HTTP/1.1 clients that sent Expect).
  virtual void sendContinue() = 0;
  virtual void sendHead(int status, const http::HeaderList& headers, ResponseBody body) = 0;
  /// Sends body bytes; `end` completes the response.
  virtual void sendData(std::string_view data, bool end) = 0;
  /// Bytes of this response buffered toward the client.
  virtual size_t pendingBytes() const = 0;
  /// Ends a response that cannot be completed: resets the stream or closes
  /// the connection.
  virtual void abortResponse() = 0;
  /// `n` request body bytes left the proxy toward the upstream.
  virtual void consumedRequestBody(size_t n) = 0;
  /// Closes the HTTP/1.1 connection after this response (no-op on HTTP/2).
  virtual void closeAfterResponse() = 0;
};

struct DecisionTicket;

class Exchange final : public UpstreamHandler {
 public:
  Exchange(Worker& worker, const ConnectionInfo& connection, Downstream& downstream);
  ~Exchange() override;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  /// Decides the request and either responds locally or starts forwarding.
  /// A decision on the decision pool finishes later, on this loop.
  void start(RequestInfo request);
  void onRequestBody(std::string_view data);
  void onRequestEnd();
  /// The client buffer fell below the low watermark: resume the upstream.
  void onDownstreamDrained();
  /// The client went away or reset the stream before the response ended.
  void cancel(std::string_view reason);
  /// Sends the error response for a request the front end rejected before
  /// it could start (a malformed head).
  void rejectRequest(int status, std::string_view error, RequestInfo request);

  /// True once the response ended, failed or was cancelled. Until then the
  /// exchange waits for its decision, its upstream or the request body.
  bool responseComplete() const { return response_complete_; }
  /// True while the request body is still being received.
  bool requestBodyPending() const { return !request_complete_; }
  /// True while the decision runs on the decision pool.
  bool decisionPending() const { return ticket_ != nullptr; }

  // UpstreamHandler
  void onUpstreamConnected() override;
  void onUpstreamData(std::string& in) override;
  void onUpstreamWritten(size_t written) override;
  void onUpstreamEnded(UpstreamEvent event, const std::string& detail) override;

 private:
  void decideOnPool(const policy::RequestFacts& facts);
  void onDecision(const policy::Decision& decision);
  void applyDecision(const policy::Decision& decision);
  void respondLocal(int status, std::string_view error, uint8_t challenges = 0);
  void releasePendingBody();
  void forward(const ir::Realm& realm, const ir::Container& container, int group_index);
  void writeBodyUpstream(std::string_view data);
  void endRequestUpstream();
  void restartBodyTimer();
  void stopBodyTimer();
  static void onBodyTimeout(struct ev_loop* loop, ev_timer* w, int revents);
  bool connectUpstream(bool allow_pool);
  void sendRequestHeadUpstream();
  void failUpstream(int status, std::string_view error, const std::string& detail);
  void handleResponseHead(std::string& in);
  void handleResponseBody(std::string& in);
  void finishResponse();
  void releaseUpstream(bool reusable);
  void writeAccessLog();
  double elapsedMs() const;

  Worker& worker_;
  const ConnectionInfo& connection_;
  Downstream& downstream_;
  std::shared_ptr<const PolicySnapshot> policy_;
  observe::AccessRecord record_;
  double start_ = 0;  ///< Loop time when the head arrived.

  // Decision.
  policy::HostKey host_key_;
  std::string forward_target_;  ///< Normalized path plus the original query.
  std::shared_ptr<DecisionTicket> ticket_;  ///< Set while the decision is on the pool.
  std::string pending_body_;    ///< Body bytes received while the decision is pending.
  bool overloaded_ = false;     ///< The decision pool was full (503 with Retry-After).

  // Request side.
  RequestInfo request_;
  std::string upstream_head_;  ///< Serialized request head, kept for one retry.
  bool forwarding_ = false;
  bool upstream_chunked_ = false;
  bool request_complete_ = false;
  bool request_end_sent_ = false;
  bool retried_ = false;
  uint64_t body_bytes_upstream_ = 0;
  size_t unacknowledged_body_ = 0;  ///< Body bytes queued upstream, not yet written.
  net::Endpoint endpoint_;
  std::string endpoint_key_;
  std::unique_ptr<UpstreamConnection> upstream_;
  ev_timer body_timer_;  ///< Runs while a forwarded body waits for the client.

  // Response side.
  bool head_received_ = false;
  bool head_sent_ = false;
  bool response_complete_ = false;
  bool upstream_keep_alive_ = false;
  http::BodyDecoder body_decoder_;
  bool logged_ = false;
};

}  // namespace hoody::proxy
