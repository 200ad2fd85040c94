// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 front end.
#include "runtime/proxy/http1_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/http/status.h"
#include "runtime/proxy/client_connection.h"
#include "runtime/proxy/worker.h"

namespace hoody::proxy {
namespace {

// Request body bytes that may wait for the upstream before the client
// connection stops being read.
constexpr uint64_t kBodyHighWatermark = 256 * 1024;
constexpr uint64_t kBodyLowWatermark = 64 * 1024;

}  // namespace

Http1Session::Http1Session(ClientConnection& connection) : connection_(connection) {
  ev_init(&head_timer_, onHeadTimeout);
  head_timer_.data = this;
}

Http1Session::~Http1Session() { ev_timer_stop(connection_.worker().loop(), &head_timer_); }

// Starts the head timer when bytes of a new head are waiting and stops it
// otherwise. The idle timeout alone would let a client keep a connection by
// sending one byte of its head at a time.
void Http1Session::updateHeadTimer() {
  struct ev_loop* loop = connection_.worker().loop();
  bool waiting_for_head = !exchange_ && !in_.empty() && !rejected_ && !connection_.closed();
  if (!waiting_for_head) {
    ev_timer_stop(loop, &head_timer_);
    return;
  }
  if (!ev_is_active(&head_timer_)) {
    ev_timer_set(&head_timer_, connection_.worker().config().request_head_timeout_s, 0.);
    ev_timer_start(loop, &head_timer_);
  }
}

void Http1Session::onHeadTimeout(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<Http1Session*>(w->data);
  if (self->exchange_ || self->connection_.closed()) return;
  spdlog::debug("[C{}] request head not complete within {} s; closing", self->connection_.info().id,
                self->connection_.worker().config().request_head_timeout_s);
  self->rejected_ = true;
  self->in_.clear();
  self->keep_alive_ = false;
  self->close_after_response_ = true;
  self->request_body_done_ = true;
  self->exchange_ =
      std::make_unique<Exchange>(self->connection_.worker(), self->connection_.info(), *self);
  RequestInfo info;
  info.stream_id = ++self->request_count_;
  self->exchange_->rejectRequest(408, "request-head-timeout", std::move(info));
}

void Http1Session::onData(const char* data, size_t length) {
  if (rejected_) return;
  in_.append(data, length);
  processInput();
}

void Http1Session::processInput() {
  while (!connection_.closed() && !rejected_) {
    if (!exchange_) {
      if (in_.empty() || shutting_down_) break;
      if (!startRequest()) break;
      if (connection_.closed() || rejected_) break;
    }
    if (!request_body_done_ && !feedBody()) break;
    if (!response_done_) break;

    // The exchange is complete; it is no longer on the call stack here.
    exchange_.reset();
    if (close_after_response_ || !keep_alive_) break;
  }
  updateReadPause();
  updateHeadTimer();
}

// Parses the next request head from in_. Returns false when more bytes are
// needed or the request was rejected.
bool Http1Session::startRequest() {
  http::RequestHead head;
  http::HeadResult result = http::parseRequestHead(in_, &head);
  if (result.state == http::ParseState::Incomplete) return false;

  exchange_ = std::make_unique<Exchange>(connection_.worker(), connection_.info(), *this);
  response_started_ = false;
  response_done_ = false;
  chunked_response_ = false;
  body_in_flight_ = 0;
  RequestInfo info;
  info.stream_id = ++request_count_;

  if (result.state == http::ParseState::Error) {
    // The framing is unknown, so respond, drop whatever follows and close.
    spdlog::debug("[C{}][S{}] rejected request: {}", connection_.info().id, info.stream_id,
                  result.error);
    rejected_ = true;
    in_.clear();
    keep_alive_ = false;
    close_after_response_ = true;
    request_body_done_ = true;
    exchange_->rejectRequest(result.status, result.error, std::move(info));
    return false;
  }

  in_.erase(0, result.consumed);
  minor_version_ = head.minor_version;
  keep_alive_ = head.keep_alive;
  info.method = std::move(head.method);
  info.target = std::move(head.target);
  info.authority = std::move(head.host);
  info.has_body = head.framing != http::Framing::None;
  if (head.framing == http::Framing::Length ||
      http::findField(head.headers, "content-length", nullptr) != nullptr) {
    info.content_length = head.content_length;
  }
  info.expect_continue = head.expect_continue;
  info.headers = std::move(head.headers);
  body_.reset(head.framing, head.content_length);
  request_body_done_ = !info.has_body;
  exchange_->start(std::move(info));
  return true;
}

// Passes buffered body bytes to the exchange. Returns false while the body
// is incomplete.
bool Http1Session::feedBody() {
  if (in_.empty()) return false;
  std::string body;
  size_t consumed = 0;
  http::BodyDecoder::Status status = body_.decode(in_, &consumed, &body);
  in_.erase(0, consumed);
  if (status == http::BodyDecoder::Status::Error) {
    spdlog::debug("[C{}][S{}] invalid request body: {}", connection_.info().id, request_count_,
                  body_.error());
    rejected_ = true;
    in_.clear();
    if (!response_started_) {
      exchange_->cancel("invalid-request-body");
      // Nothing was sent yet, so the client can still get a status.
      std::string response = fmt::format(
          "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
          "Content-Length: 16\r\nConnection: close\r\n\r\n400 Bad Request\n");
      connection_.write(response);
      connection_.closeAfterFlush();
    } else {
      exchange_->cancel("invalid-request-body");
      connection_.close("invalid-request-body");
    }
    return false;
  }
  if (!body.empty()) {
    body_in_flight_ += body.size();
    exchange_->onRequestBody(body);
    if (connection_.closed()) return false;
  }
  if (status == http::BodyDecoder::Status::Done) {
    request_body_done_ = true;
    exchange_->onRequestEnd();
    return true;
  }
  return false;
}

void Http1Session::updateReadPause() {
  if (connection_.closed()) return;
  // Stop reading while the upstream lags behind the request body, or while a
  // pipelined request waits for the current response.
  bool body_backlog = !request_body_done_ && body_in_flight_ > kBodyHighWatermark;
  bool pipeline_backlog = exchange_ != nullptr && request_body_done_ && in_.size() > http::kMaxHeadSize;
  connection_.setReadPaused(body_backlog || pipeline_backlog);
}

void Http1Session::scheduleProcessing() {
  if (processing_scheduled_) return;
  processing_scheduled_ = true;
  std::shared_ptr<bool> alive = connection_.aliveToken();
  connection_.worker().post([this, alive] {
    if (!*alive) return;
    processing_scheduled_ = false;
    processInput();
  });
}

void Http1Session::onOutputDrained() {
  if (exchange_ && response_started_ && !response_done_) exchange_->onDownstreamDrained();
}

void Http1Session::shutdown() {
  shutting_down_ = true;
  close_after_response_ = true;
  if (!exchange_) connection_.closeAfterFlush();
}

void Http1Session::onClosed() {
  if (exchange_) exchange_->cancel("client-closed");
}

void Http1Session::sendContinue() {
  if (!response_started_) connection_.write("HTTP/1.1 100 Continue\r\n\r\n");
}

void Http1Session::sendHead(int status, const http::HeaderList& headers, ResponseBody body) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reasonPhrase(status));
  for (const http::HeaderField& field : headers) {
    out.append(field.name);
    out.append(": ");
    out.append(field.value);
    out.append("\r\n");
  }
  chunked_response_ = false;
  if (body == ResponseBody::Unknown) {
    if (minor_version_ == 1) {
      chunked_response_ = true;
      out.append("Transfer-Encoding: chunked\r\n");
    } else {
      close_after_response_ = true;  // HTTP/1.0: the body ends at close.
    }
  }
  if (shutting_down_ || !keep_alive_) close_after_response_ = true;
  if (close_after_response_) out.append("Connection: close\r\n");
  out.append("\r\n");
  response_started_ = true;
  connection_.write(out);
  if (body == ResponseBody::None) responseDone();
}

void Http1Session::sendData(std::string_view data, bool end) {
  if (chunked_response_) {
    std::string out;
    http::appendChunk(data, &out);
    if (end) out.append(http::kLastChunk);
    connection_.write(out);
  } else if (!data.empty()) {
    connection_.write(data);
  }
  if (end) responseDone();
}

void Http1Session::responseDone() {
  response_done_ = true;
  if (close_after_response_ || !keep_alive_) {
    connection_.closeAfterFlush();
    return;
  }
  scheduleProcessing();
}

size_t Http1Session::pendingBytes() const { return connection_.pendingOutput(); }

void Http1Session::abortResponse() {
  // HTTP/1.1 has no way to mark a response as failed except closing.
  connection_.close("response-aborted");
}

void Http1Session::consumedRequestBody(size_t n) {
  body_in_flight_ = n > body_in_flight_ ? 0 : body_in_flight_ - n;
  if (body_in_flight_ >= kBodyLowWatermark) return;
  updateReadPause();
  // Body bytes may already wait in in_; they need no new socket event.
  if (!in_.empty() && !request_body_done_) scheduleProcessing();
}

}  // namespace hoody::proxy
