// SPDX-License-Identifier: Apache-2.0
// HTTP/2 front end on nghttp2 1.52.
#include "runtime/proxy/http2_session.h"

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "runtime/http/headers.h"
#include "runtime/proxy/client_connection.h"
#include "runtime/proxy/worker.h"

namespace hoody::proxy {
namespace {

constexpr uint32_t kMaxConcurrentStreams = 100;
// SETTINGS_MAX_HEADER_LIST_SIZE: name + value + 32 per field (RFC 9113
// section 6.5.2), counted on decoded fields.
constexpr size_t kMaxHeaderList = 64 * 1024;
// Past this the fields are not even counted: the stream is reset at once.
constexpr size_t kHeaderListResetLimit = 4 * kMaxHeaderList;
constexpr int32_t kStreamWindow = 256 * 1024;
constexpr int32_t kConnectionWindow = 1024 * 1024;
// Once a stream's buffered response falls below this, the exchange resumes
// reading from its upstream.
constexpr size_t kStreamLowWatermark = 64 * 1024;
// Output the session serializes ahead of the socket.
constexpr size_t kOutputAhead = 64 * 1024;
// Request body bytes a stream may still receive and drop after its response
// is complete; past this the stream is reset.
constexpr uint64_t kMaxDrainBytes = 16 * 1024 * 1024;

std::string_view asView(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

}  // namespace

struct Http2Session::Stream final : public Downstream {
  Stream(Http2Session& s, int32_t stream_id) : session(s), id(stream_id) {
    request.stream_id = stream_id;
  }
  ~Stream() override { exchange.reset(); }

  void sendContinue() override;
  void sendHead(int status, const http::HeaderList& headers, ResponseBody body) override;
  void sendData(std::string_view data, bool end) override;
  size_t pendingBytes() const override { return out.size() - out_offset; }
  void abortResponse() override;
  void consumedRequestBody(size_t n) override;
  void closeAfterResponse() override {}

  Http2Session& session;
  int32_t id;
  RequestInfo request;
  double head_started = 0;     ///< Loop time the header block began.
  bool head_complete = false;  ///< The whole request header block arrived.
  bool draining = false;       ///< Response sent; the rest of the body is dropped.
  double drain_started = 0;    ///< Loop time the response ended.
  uint64_t drained_bytes = 0;
  std::string scheme;
  std::string host_field;
  int host_count = 0;
  size_t header_bytes = 0;
  bool oversized = false;
  std::string header_error;  ///< First problem with the request head, if any.
  std::unique_ptr<Exchange> exchange;
  std::string early_body;  ///< Body bytes that arrived before the exchange started.
  bool request_ended = false;
  std::string out;
  size_t out_offset = 0;
  bool response_ended = false;
  bool data_deferred = false;
  bool closed = false;
};

void Http2Session::Stream::sendContinue() {
  if (closed) return;
  std::string name = ":status";
  std::string value = "100";
  nghttp2_nv nv = {reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
  nghttp2_submit_headers(session.session_, NGHTTP2_FLAG_NONE, id, nullptr, &nv, 1, nullptr);
  session.connection_.signalWrite();
}

void Http2Session::Stream::sendHead(int status, const http::HeaderList& headers,
                                    ResponseBody body) {
  if (closed) return;
  std::string status_text = std::to_string(status);
  std::vector<std::string> lowered;
  lowered.reserve(headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 1);
  auto add = [&nva](std::string_view name, std::string_view value) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  add(":status", status_text);
  for (const http::HeaderField& field : headers) lowered.push_back(http::toLower(field.name));
  for (size_t i = 0; i < headers.size(); ++i) add(lowered[i], headers[i].value);

  nghttp2_data_provider provider;
  provider.source.ptr = this;
  provider.read_callback = readResponseData;
  bool has_body = body != ResponseBody::None;
  response_ended = !has_body;
  int rv = nghttp2_submit_response(session.session_, id, nva.data(), nva.size(),
                                   has_body ? &provider : nullptr);
  if (rv != 0) {
    spdlog::warn("[C{}][S{}] cannot submit a response: {}", session.connection_.info().id, id,
                 nghttp2_strerror(rv));
  }
  session.connection_.signalWrite();
}

void Http2Session::Stream::sendData(std::string_view data, bool end) {
  if (closed) return;
  if (out_offset == out.size()) {
    out.clear();
    out_offset = 0;
  }
  out.append(data);
  if (end) response_ended = true;
  if (data_deferred) {
    data_deferred = false;
    nghttp2_session_resume_data(session.session_, id);
  }
  session.connection_.signalWrite();
}

void Http2Session::Stream::abortResponse() {
  if (closed) return;
  nghttp2_submit_rst_stream(session.session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
  session.connection_.signalWrite();
}

void Http2Session::Stream::consumedRequestBody(size_t n) {
  if (closed) return;
  nghttp2_session_consume_stream(session.session_, id, n);
  session.connection_.signalWrite();
}

Http2Session::Http2Session(ClientConnection& connection) : connection_(connection) {
  ev_init(&deadline_timer_, onDeadline);
  deadline_timer_.data = this;
  last_progress_ = ev_now(connection_.worker().loop());
}

std::unique_ptr<Http2Session> Http2Session::create(ClientConnection& connection) {
  std::unique_ptr<Http2Session> s(new Http2Session(connection));
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return nullptr;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunkRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSend);

  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return nullptr;
  }
  nghttp2_option_set_no_auto_window_update(option, 1);
  int rv = nghttp2_session_server_new2(&s->session_, callbacks, s.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return nullptr;

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, kMaxHeaderList},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
  };
  if (nghttp2_submit_settings(s->session_, NGHTTP2_FLAG_NONE, settings,
                              sizeof(settings) / sizeof(settings[0])) != 0 ||
      nghttp2_session_set_local_window_size(s->session_, NGHTTP2_FLAG_NONE, 0,
                                            kConnectionWindow) != 0) {
    return nullptr;
  }
  return s;
}

Http2Session::~Http2Session() {
  ev_timer_stop(connection_.worker().loop(), &deadline_timer_);
  streams_.clear();
  retired_.clear();
  if (session_ != nullptr) nghttp2_session_del(session_);
}

Http2Session::Stream* Http2Session::findStream(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2Session::onData(const char* data, size_t length) {
  retired_.clear();
  if (fatal_) return;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), length);
  if (rv < 0) {
    spdlog::debug("[C{}] HTTP/2 session error: {}", connection_.info().id,
                  nghttp2_strerror(static_cast<int>(rv)));
    fatal_ = true;
    connection_.closeAfterFlush();
    return;
  }
  startReadyStreams();
  if (!to_reset_.empty()) {
    std::vector<int32_t> ids;
    ids.swap(to_reset_);
    resetStreams(std::move(ids));
  }
  connection_.signalWrite();
}

void Http2Session::startReadyStreams() {
  std::vector<int32_t> ready;
  ready.swap(ready_);
  for (int32_t id : ready) {
    Stream* stream = findStream(id);
    if (stream != nullptr && !stream->closed && !stream->exchange) startStream(*stream);
    if (connection_.closed()) return;
  }
}

void Http2Session::startStream(Stream& stream) {
  stream.exchange =
      std::make_unique<Exchange>(connection_.worker(), connection_.info(), stream);
  if (stream.oversized) {
    stream.exchange->rejectRequest(431, "header-list-too-large", std::move(stream.request));
  } else if (!stream.header_error.empty()) {
    stream.exchange->rejectRequest(400, stream.header_error, std::move(stream.request));
  } else {
    stream.exchange->start(std::move(stream.request));
  }
  if (!stream.early_body.empty()) {
    std::string body;
    body.swap(stream.early_body);
    stream.exchange->onRequestBody(body);
  }
  if (stream.request_ended) stream.exchange->onRequestEnd();
}

void Http2Session::fillOutput() {
  retired_.clear();
  while (connection_.pendingOutput() < kOutputAhead && !connection_.closed()) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      spdlog::debug("[C{}] HTTP/2 send error: {}", connection_.info().id,
                    nghttp2_strerror(static_cast<int>(n)));
      fatal_ = true;
      connection_.closeAfterFlush();
      return;
    }
    if (n == 0) return;
    connection_.write(asView(data, static_cast<size_t>(n)));
  }
}

bool Http2Session::finished() const {
  return fatal_ ||
         (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
}

bool Http2Session::busy() const {
  for (const auto& [id, stream] : streams_) {
    if (stream->closed) continue;
    // A complete head waits for startReadyStreams; an exchange waits for
    // its decision or upstream until the response is complete.
    if (stream->exchange ? !stream->exchange->responseComplete() : stream->head_complete) {
      return true;
    }
  }
  return false;
}

// Resets streams with RST_STREAM(NO_ERROR): their response is complete and
// the proxy forwards nothing more of their request.
void Http2Session::resetStreams(std::vector<int32_t> ids) {
  for (int32_t id : ids) {
    Stream* stream = findStream(id);
    if (stream == nullptr || stream->closed || stream->request_ended || !stream->draining) {
      continue;
    }
    stream->draining = false;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
  }
  if (!ids.empty()) connection_.signalWrite();
}

void Http2Session::armDeadlineTimer(double delay) {
  struct ev_loop* loop = connection_.worker().loop();
  if (ev_is_active(&deadline_timer_) && ev_timer_remaining(loop, &deadline_timer_) <= delay) {
    return;
  }
  ev_timer_stop(loop, &deadline_timer_);
  ev_timer_set(&deadline_timer_, delay, 0.);
  ev_timer_start(loop, &deadline_timer_);
}

void Http2Session::onDeadline(struct ev_loop*, ev_timer* w, int) {
  static_cast<Http2Session*>(w->data)->checkDeadlines();
}

// Ends the connection when a header block has been open for the request-head
// timeout, and resets streams that have drained their body for the
// request-body timeout. Then arms the timer for the next deadline.
void Http2Session::checkDeadlines() {
  if (fatal_ || connection_.closed()) return;
  const ProxyConfig& config = connection_.worker().config();
  double now = ev_now(connection_.worker().loop());
  double next = -1;
  std::vector<int32_t> stalled;
  for (const auto& [id, stream] : streams_) {
    if (stream->closed) continue;
    double left;
    if (!stream->head_complete) {
      left = stream->head_started + config.request_head_timeout_s - now;
      if (left <= 0) {
        spdlog::debug("[C{}][S{}] request header block not complete within {} s; sending GOAWAY",
                      connection_.info().id, id, config.request_head_timeout_s);
        fatal_ = true;
        nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
        connection_.closeAfterFlush();
        return;
      }
    } else if (stream->draining) {
      left = stream->drain_started + config.request_body_timeout_s - now;
      if (left <= 0) {
        stalled.push_back(id);
        continue;
      }
    } else {
      continue;
    }
    next = next < 0 ? left : std::min(next, left);
  }
  resetStreams(std::move(stalled));
  if (next > 0) armDeadlineTimer(next);
}

void Http2Session::shutdown() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  connection_.signalWrite();
}

void Http2Session::onClosed() {
  ev_timer_stop(connection_.worker().loop(), &deadline_timer_);
  for (auto& [id, stream] : streams_) {
    stream->closed = true;
    if (stream->exchange) stream->exchange->cancel("client-closed");
  }
}

void Http2Session::retireStream(int32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->closed = true;
  retired_.push_back(std::move(it->second));
  streams_.erase(it);
}

int Http2Session::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<Http2Session*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  int32_t id = frame->hd.stream_id;
  auto stream = std::make_unique<Stream>(*self, id);
  struct ev_loop* loop = self->connection_.worker().loop();
  stream->head_started = ev_now(loop);
  self->last_progress_ = stream->head_started;
  self->streams_[id] = std::move(stream);
  self->armDeadlineTimer(self->connection_.worker().config().request_head_timeout_s);
  return 0;
}

int Http2Session::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                           size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                           void* user_data) {
  auto* self = static_cast<Http2Session*>(user_data);
  Stream* stream = self->findStream(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  stream->header_bytes += namelen + valuelen + 32;
  if (stream->header_bytes > kHeaderListResetLimit) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (stream->header_bytes > kMaxHeaderList) stream->oversized = true;
  // Trailer fields are counted but dropped; oversized lists are not stored.
  if (stream->oversized || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;

  std::string_view n = asView(name, namelen);
  std::string_view v = asView(value, valuelen);
  RequestInfo& request = stream->request;
  if (!n.empty() && n.front() == ':') {
    if (n == ":method") {
      request.method.assign(v);
    } else if (n == ":path") {
      request.target.assign(v);
    } else if (n == ":authority") {
      request.authority.assign(v);
    } else if (n == ":scheme") {
      stream->scheme.assign(v);
    } else if (stream->header_error.empty()) {
      stream->header_error = "invalid-pseudo-header";
    }
    return 0;
  }
  if (n == "host") {
    ++stream->host_count;
    stream->host_field.assign(v);
    return 0;
  }
  if (n == "content-length") {
    uint64_t length = 0;
    if (request.content_length || !http::parseContentLength(v, &length)) {
      if (stream->header_error.empty()) stream->header_error = "invalid-content-length";
    } else {
      request.content_length = length;
    }
    return 0;
  }
  if (n == "expect" && http::equalsIgnoreCase(v, "100-continue")) request.expect_continue = true;
  request.headers.push_back({std::string(n), std::string(v)});
  return 0;
}

int Http2Session::onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame,
                              void* user_data) {
  auto* self = static_cast<Http2Session*>(user_data);
  switch (frame->hd.type) {
    case NGHTTP2_RST_STREAM:
      if (!self->resets_.take(ev_now(self->connection_.worker().loop()))) {
        spdlog::warn("[C{}] client {} exceeded the RST_STREAM rate; sending GOAWAY",
                     self->connection_.info().id, self->connection_.info().client_text);
        self->connection_.worker().stats().rapid_reset_goaways.fetch_add(1);
        nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
      }
      return 0;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
      break;
    default:
      return 0;
  }
  Stream* stream = self->findStream(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  self->last_progress_ = ev_now(self->connection_.worker().loop());

  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    stream->head_complete = true;
    RequestInfo& request = stream->request;
    // A Host field must agree with :authority (RFC 9113 section 8.3.1). When
    // :authority is absent, Host is used in its place.
    if (stream->host_count > 1) {
      stream->header_error = "duplicate-host";
    } else if (stream->host_count == 1) {
      if (request.authority.empty()) {
        request.authority = stream->host_field;
      } else if (!http::equalsIgnoreCase(request.authority, stream->host_field)) {
        stream->header_error = "authority-host-mismatch";
      }
    }
    if (stream->header_error.empty() && stream->scheme != "https") {
      stream->header_error = "invalid-scheme";
    }
    if (stream->header_error.empty() && request.method == "CONNECT") {
      stream->header_error = "connect-not-supported";
    }
    request.has_body = !end_stream;
    request.expect_continue = request.expect_continue && request.has_body;
    stream->request_ended = end_stream;
    self->ready_.push_back(stream->id);
    return 0;
  }
  if (end_stream) {
    stream->request_ended = true;
    if (stream->exchange) stream->exchange->onRequestEnd();
  }
  return 0;
}

int Http2Session::onDataChunkRecv(nghttp2_session* session, uint8_t, int32_t stream_id,
                                  const uint8_t* data, size_t len, void* user_data) {
  auto* self = static_cast<Http2Session*>(user_data);
  // The connection window is replenished at once; each stream's window only
  // when its bytes left the proxy, so one slow upstream stalls one stream.
  nghttp2_session_consume_connection(session, len);
  self->last_progress_ = ev_now(self->connection_.worker().loop());
  Stream* stream = self->findStream(stream_id);
  if (stream == nullptr || stream->closed) {
    nghttp2_session_consume_stream(session, stream_id, len);
    return 0;
  }
  if (stream->draining) {
    stream->drained_bytes += len;
    if (stream->drained_bytes > kMaxDrainBytes) self->to_reset_.push_back(stream_id);
  }
  if (stream->exchange) {
    stream->exchange->onRequestBody(asView(data, len));
  } else {
    stream->early_body.append(asView(data, len));
  }
  return 0;
}

int Http2Session::onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                void* user_data) {
  auto* self = static_cast<Http2Session*>(user_data);
  Stream* stream = self->findStream(stream_id);
  if (stream == nullptr) return 0;
  stream->closed = true;
  if (stream->exchange && !stream->exchange->responseComplete()) {
    stream->exchange->cancel(error_code == NGHTTP2_NO_ERROR ? "stream-closed" : "stream-reset");
  }
  self->retireStream(stream_id);
  return 0;
}

int Http2Session::onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<Http2Session*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  self->last_progress_ = ev_now(self->connection_.worker().loop());
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  Stream* stream = self->findStream(frame->hd.stream_id);
  if (stream != nullptr && !stream->closed && !stream->request_ended) {
    // The rest of the request body is dropped from now on.
    stream->draining = true;
    stream->drain_started = self->last_progress_;
    self->armDeadlineTimer(self->connection_.worker().config().request_body_timeout_s);
  }
  return 0;
}

ssize_t Http2Session::readResponseData(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                       uint32_t* data_flags, nghttp2_data_source* source,
                                       void*) {
  auto* stream = static_cast<Stream*>(source->ptr);
  size_t available = stream->out.size() - stream->out_offset;
  size_t n = std::min(length, available);
  if (n > 0) {
    memcpy(buf, stream->out.data() + stream->out_offset, n);
    stream->out_offset += n;
  }
  if (stream->out_offset == stream->out.size()) {
    stream->out.clear();
    stream->out_offset = 0;
  }
  if (stream->response_ended && stream->out.empty()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    stream->data_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (stream->pendingBytes() < kStreamLowWatermark && stream->exchange) {
    stream->exchange->onDownstreamDrained();
  }
  return static_cast<ssize_t>(n);
}

}  // namespace hoody::proxy
