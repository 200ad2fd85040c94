// SPDX-License-Identifier: Apache-2.0
// Request decision and forwarding, shared by HTTP/1.1 and HTTP/2.
#include "runtime/proxy/exchange.h"

#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/http/path.h"
#include "runtime/http/status.h"
#include "runtime/policy/decision.h"
#include "runtime/proxy/forwarding.h"
#include "runtime/proxy/worker.h"

namespace hoody::proxy {
namespace {

// Above this many bytes buffered toward the client, reading from the
// upstream pauses until the client catches up.
constexpr size_t kResponseHighWatermark = 256 * 1024;

// Quotes `s` as an RFC 9110 quoted-string.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

const ir::ServicePort* findPort(const ir::Container& container, ir::Service service,
                                uint32_t instance) {
  for (const ir::ServicePort& port : container.upstream.ports) {
    if (port.service == service && port.instance == instance) return &port;
  }
  return nullptr;
}

}  // namespace

Exchange::Exchange(Worker& worker, const ConnectionInfo& connection, Downstream& downstream)
    : worker_(worker), connection_(connection), downstream_(downstream) {
  start_ = ev_time();
  record_.start_unix_ms = Worker::nowUnixMs();
  record_.conn_id = connection.id;
  record_.protocol = connection.h2 ? "h2" : "h1";
  record_.client = connection.client_text;
  record_.decision = "error";
}

Exchange::~Exchange() {
  if (!logged_) {
    if (record_.error.empty()) record_.error = "aborted";
    if (record_.status == 0) record_.status = 499;
    writeAccessLog();
  }
}

double Exchange::elapsedMs() const { return (ev_time() - start_) * 1000.0; }

void Exchange::start(RequestInfo request) {
  request_ = std::move(request);
  record_.stream_id = request_.stream_id;
  record_.method = request_.method;
  request_complete_ = !request_.has_body;
  worker_.stats().requests.fetch_add(1, std::memory_order_relaxed);
  policy_ = worker_.policy();
  const ir::Policy& policy = *policy_->policy;

  // 1. Host and SNI. Both are parsed the same way; a connection opened for one
  // container must not carry requests for another.
  policy::ParsedHost host = policy::parseHost(request_.authority, policy.node, policy.domain);
  if (host.status == policy::HostStatus::Malformed) return respondLocal(400, "invalid-host");
  if (!connection_.sni.empty() && host.status == policy::HostStatus::Ok) {
    policy::ParsedHost sni = policy::parseHost(connection_.sni, policy.node, policy.domain);
    if (sni.status != policy::HostStatus::Ok || sni.key.container != host.key.container ||
        sni.key.project != host.key.project) {
      return respondLocal(421, "sni-host-mismatch");
    }
  }

  // 2. The path the decision sees is exactly the path the upstream gets.
  Result<http::NormalizedTarget> target = http::normalizeTarget(request_.target);
  if (!target) return respondLocal(400, target.error().code);
  record_.path = target->path;

  int authorization_count = 0;
  const http::HeaderField* authorization =
      http::findField(request_.headers, "authorization", &authorization_count);
  if (authorization_count > 1) return respondLocal(400, "duplicate-authorization");
  policy::Credentials credentials;
  if (authorization != nullptr) credentials = policy::parseAuthorization(authorization->value);

  // 3. Decision. An unknown host goes through the same container lookup as a
  // wrong ID, so neither gets a faster or different response.
  policy::Decision decision;
  if (host.status == policy::HostStatus::Ok) {
    policy::RequestFacts facts;
    facts.host = host.key;
    facts.client = connection_.client;
    facts.method = ir::methodFromToken(request_.method);
    facts.path = target->path;
    facts.credentials = &credentials;
    facts.now = static_cast<int64_t>(time(nullptr));
    decision = policy_->interpreter.decide(facts, worker_.verifier());
  } else {
    (void)policy_->interpreter.findContainer(host.key.container, host.key.project);
    decision.outcome = policy::Outcome::NotFound;
  }
  record_.decision = std::string(policy::outcomeName(decision.outcome));
  if (decision.realm >= 0 && decision.container >= 0) {
    const ir::Realm& realm = policy.realms[static_cast<size_t>(decision.realm)];
    record_.realm = realm.name;
    record_.container = realm.containers[static_cast<size_t>(decision.container)].name;
    record_.service = std::string(ir::serviceName(host.key.service));
  }

  switch (decision.outcome) {
    case policy::Outcome::NotFound:
      return respondLocal(404, "");
    case policy::Outcome::Maintenance:
      return respondLocal(503, "maintenance");
    case policy::Outcome::Unauthorized:
      return respondLocal(401, "", decision.challenges);
    case policy::Outcome::Forbidden:
      return respondLocal(403, "");
    case policy::Outcome::Allow:
      break;
  }
  const ir::Realm& realm = policy.realms[static_cast<size_t>(decision.realm)];
  const ir::Container& container = realm.containers[static_cast<size_t>(decision.container)];
  const ir::ServicePort* port = findPort(container, host.key.service, host.key.instance);
  if (port == nullptr) return respondLocal(502, "no-upstream-port");
  Result<net::Endpoint> endpoint = net::makeEndpoint(container.upstream.address, port->port);
  if (!endpoint) return respondLocal(502, "invalid-upstream-address");
  endpoint_ = *endpoint;
  endpoint_key_ = endpoint_.str();
  request_.target = target->forwardTarget();
  forward(realm, container, decision.group);
}

void Exchange::forward(const ir::Realm& realm, const ir::Container& container, int group_index) {
  const ir::PermissionBlock& block = realm.blocks[container.block];
  const ir::Group* group =
      group_index >= 0 ? &block.groups[static_cast<size_t>(group_index)] : nullptr;
  record_.group = group != nullptr ? group->name : "default";

  ForwardContext context;
  context.authority = request_.authority;
  context.client = connection_.client_text;
  context.realm = realm.name;
  context.group = record_.group;
  context.container = container.name;
  context.service = record_.service;
  context.keep_authorization = group != nullptr && group->forward_credentials;
  UpstreamFraming framing;
  framing.has_body = request_.has_body;
  framing.content_length = request_.content_length;
  upstream_chunked_ = request_.has_body && !request_.content_length;
  upstream_head_ = buildUpstreamRequestHead(request_.method, request_.target, request_.headers,
                                            context, framing);
  // The request fields are no longer needed, and dropping them early means
  // no credential stays in memory longer than necessary.
  request_.headers.clear();
  forwarding_ = true;
  if (request_.expect_continue) downstream_.sendContinue();
  if (connectUpstream(true)) sendRequestHeadUpstream();
}

bool Exchange::connectUpstream(bool allow_pool) {
  if (allow_pool) upstream_ = worker_.upstreamPool().acquire(endpoint_key_);
  if (!upstream_) {
    Result<std::unique_ptr<UpstreamConnection>> c =
        UpstreamConnection::connect(worker_.loop(), endpoint_, endpoint_key_,
                                    worker_.config().upstream_connect_timeout_s);
    if (!c) {
      failUpstream(502, "upstream-connect-failed", c.error().message);
      return false;
    }
    upstream_ = std::move(*c);
    worker_.stats().upstream_connects.fetch_add(1, std::memory_order_relaxed);
  }
  upstream_->attach(this, worker_.config().upstream_response_timeout_s);
  return true;
}

void Exchange::sendRequestHeadUpstream() {
  upstream_->write(upstream_head_);
  if (!request_.has_body) request_end_sent_ = true;
}

void Exchange::onRequestBody(std::string_view data) {
  record_.bytes_in += data.size();
  if (!forwarding_ || !upstream_) {
    // Answered locally or failed: the body is read and dropped.
    downstream_.consumedRequestBody(data.size());
    return;
  }
  if (upstream_chunked_) {
    std::string chunk;
    http::appendChunk(data, &chunk);
    upstream_->write(chunk);
  } else {
    upstream_->write(data);
  }
  body_bytes_upstream_ += data.size();
  unacknowledged_body_ += data.size();
}

void Exchange::onRequestEnd() {
  request_complete_ = true;
  if (!forwarding_ || !upstream_ || request_end_sent_) return;
  if (upstream_chunked_) upstream_->write(http::kLastChunk);
  request_end_sent_ = true;
}

void Exchange::onDownstreamDrained() {
  if (upstream_ && head_received_ && !response_complete_) upstream_->resumeRead();
}

void Exchange::cancel(std::string_view reason) {
  if (response_complete_) return;
  record_.error = std::string(reason);
  if (!head_sent_) record_.status = 499;
  upstream_.reset();
  response_complete_ = true;
  writeAccessLog();
}

void Exchange::rejectRequest(int status, std::string_view error, RequestInfo request) {
  request_ = std::move(request);
  record_.stream_id = request_.stream_id;
  record_.method = request_.method;
  request_complete_ = !request_.has_body;
  respondLocal(status, error);
}

void Exchange::respondLocal(int status, std::string_view error, uint8_t challenges) {
  record_.status = status;
  if (!error.empty()) record_.error = std::string(error);
  // Every byte of a local response depends only on the status (and for 401
  // on the realm), never on the host or path asked for.
  std::string body = fmt::format("{} {}\n", status, http::reasonPhrase(status));
  http::HeaderList headers;
  headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  headers.push_back({"Content-Length", std::to_string(body.size())});
  headers.push_back({"Cache-Control", "no-store"});
  headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (status == 401) {
    std::string realm = quoted(record_.realm);
    if (challenges & policy::kChallengeBasic) {
      headers.push_back({"WWW-Authenticate", "Basic realm=" + realm + ", charset=\"UTF-8\""});
    }
    if (challenges & policy::kChallengeBearer) {
      headers.push_back({"WWW-Authenticate", "Bearer realm=" + realm});
    }
  }
  if (!request_complete_ || status == 400) downstream_.closeAfterResponse();
  head_sent_ = true;
  response_complete_ = true;
  if (request_.method == "HEAD") {
    downstream_.sendHead(status, headers, ResponseBody::None);
  } else {
    downstream_.sendHead(status, headers, ResponseBody::Length);
    record_.bytes_out = body.size();
    downstream_.sendData(body, true);
  }
  writeAccessLog();
}

void Exchange::failUpstream(int status, std::string_view error, const std::string& detail) {
  spdlog::warn("[C{}][S{}] upstream {} failed: {}: {}", connection_.id, request_.stream_id,
               endpoint_key_, error, detail);
  upstream_.reset();
  forwarding_ = false;
  if (!head_sent_) {
    respondLocal(status, error);
    return;
  }
  record_.error = std::string(error);
  response_complete_ = true;
  downstream_.abortResponse();
  writeAccessLog();
}

void Exchange::onUpstreamConnected() {}

void Exchange::onUpstreamWritten(size_t) {
  if (upstream_ && upstream_->pendingWrite() == 0 && unacknowledged_body_ > 0) {
    size_t n = unacknowledged_body_;
    unacknowledged_body_ = 0;
    downstream_.consumedRequestBody(n);
  }
}

void Exchange::onUpstreamData(std::string& in) {
  if (response_complete_) {
    // Bytes after a complete response: the connection cannot be reused.
    upstream_keep_alive_ = false;
    return;
  }
  if (!head_received_) handleResponseHead(in);
  if (head_received_ && !response_complete_ && upstream_) handleResponseBody(in);
}

void Exchange::handleResponseHead(std::string& in) {
  for (;;) {
    http::ResponseHead head;
    http::HeadResult result = http::parseResponseHead(in, request_.method, &head);
    if (result.state == http::ParseState::Incomplete) return;
    if (result.state == http::ParseState::Error) {
      failUpstream(502, "upstream-invalid-response", result.error);
      return;
    }
    in.erase(0, result.consumed);
    if (head.status == 101) {
      failUpstream(502, "upstream-invalid-response", "unexpected 101 Switching Protocols");
      return;
    }
    if (head.status < 200) continue;  // Interim responses (100 Continue) are dropped.

    head_received_ = true;
    record_.upstream_ms = elapsedMs();
    record_.status = head.status;
    upstream_keep_alive_ = head.keep_alive;
    body_decoder_.reset(head.framing, head.content_length);
    ResponseBody body = ResponseBody::Unknown;
    if (head.framing == http::Framing::None) body = ResponseBody::None;
    if (head.framing == http::Framing::Length) body = ResponseBody::Length;
    // An upstream that responds before reading the whole request body leaves
    // the client connection in an unknown state.
    if (!request_complete_) downstream_.closeAfterResponse();
    head_sent_ = true;
    downstream_.sendHead(head.status, filterResponseHeaders(head.headers, connection_.h2), body);
    if (body == ResponseBody::None) finishResponse();
    return;
  }
}

void Exchange::handleResponseBody(std::string& in) {
  std::string out;
  size_t consumed = 0;
  http::BodyDecoder::Status status = body_decoder_.decode(in, &consumed, &out);
  in.erase(0, consumed);
  if (status == http::BodyDecoder::Status::Error) {
    failUpstream(502, "upstream-invalid-body", body_decoder_.error());
    return;
  }
  record_.bytes_out += out.size();
  bool done = status == http::BodyDecoder::Status::Done;
  if (!out.empty() || done) downstream_.sendData(out, done);
  if (done) {
    if (!in.empty()) upstream_keep_alive_ = false;
    finishResponse();
    return;
  }
  if (upstream_ && downstream_.pendingBytes() > kResponseHighWatermark) upstream_->pauseRead();
}

void Exchange::finishResponse() {
  response_complete_ = true;
  releaseUpstream(upstream_keep_alive_ && request_end_sent_);
  writeAccessLog();
}

void Exchange::releaseUpstream(bool reusable) {
  if (!upstream_) return;
  upstream_->detach();
  if (reusable && upstream_->pendingWrite() == 0) {
    worker_.upstreamPool().release(std::move(upstream_));
  } else {
    upstream_.reset();
  }
}

void Exchange::onUpstreamEnded(UpstreamEvent event, const std::string& detail) {
  if (event == UpstreamEvent::Closed && head_received_ && !response_complete_ &&
      body_decoder_.finishAtClose()) {
    upstream_.reset();
    downstream_.sendData({}, true);
    finishResponse();
    return;
  }
  // A pooled connection the upstream closed while idle: retry once on a new
  // connection, but only when nothing of the response arrived and there is
  // no body that would have to be replayed.
  if (!head_received_ && upstream_ && upstream_->reused() && !retried_ && !request_.has_body &&
      (event == UpstreamEvent::Closed || event == UpstreamEvent::IoError)) {
    retried_ = true;
    upstream_.reset();
    if (connectUpstream(false)) sendRequestHeadUpstream();
    return;
  }
  bool timeout = event == UpstreamEvent::ConnectTimeout || event == UpstreamEvent::Timeout;
  failUpstream(timeout ? 504 : 502, fmt::format("upstream-{}", upstreamEventName(event)), detail);
}

void Exchange::writeAccessLog() {
  if (logged_) return;
  logged_ = true;
  record_.duration_ms = elapsedMs();
  if (observe::AccessLog* log = worker_.accessLog()) log->write(record_);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("[C{}][S{}] {} {} -> {} decision={} group={} error={}", record_.conn_id,
                  record_.stream_id, record_.method, record_.path, record_.status,
                  record_.decision, record_.group, record_.error);
  }
}

}  // namespace hoody::proxy
