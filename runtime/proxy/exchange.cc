// SPDX-License-Identifier: Apache-2.0
// Request decision and forwarding, shared by HTTP/1.1 and HTTP/2.
#include "runtime/proxy/exchange.h"

#include <openssl/crypto.h>

#include <atomic>
#include <ctime>
#include <exception>

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

// True when deciding a request for `key` may verify a password hash: the
// container exists, is not in maintenance and its block has a password group.
bool mayVerifyPassword(const PolicySnapshot& snapshot, const policy::HostKey& key) {
  auto [realm_index, container_index] =
      snapshot.interpreter.findContainer(key.container, key.project);
  if (realm_index < 0 || container_index < 0) return false;
  const ir::Realm& realm = snapshot.policy->realms[static_cast<size_t>(realm_index)];
  const ir::Container& container = realm.containers[static_cast<size_t>(container_index)];
  if (container.maintenance) return false;
  for (const ir::Group& group : realm.blocks[container.block].groups) {
    if (group.credential == ir::CredentialKind::Password) return true;
  }
  return false;
}

// The reason text costs more than the rest of a JIT decision (heap
// allocations), so it is built only when the trace log prints it.
ReasonText reasonTextForLog() {
  return spdlog::should_log(spdlog::level::trace) ? ReasonText::Build : ReasonText::Omit;
}

void wipe(std::string& secret) {
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

// The request facts of a pooled decision, owned by the job.
struct OwnedFacts {
  policy::HostKey host;
  ir::IpAddress client;
  ir::Method method = ir::Method::Get;
  std::string path;
  policy::Credentials credentials;
  int64_t now = 0;

  policy::RequestFacts view() const {
    policy::RequestFacts facts;
    facts.host = host;
    facts.client = client;
    facts.method = method;
    facts.path = path;
    facts.credentials = &credentials;
    facts.now = now;
    return facts;
  }
};

}  // namespace

// Links an exchange to its decision on the pool. `exchange` is read and
// cleared on the loop thread only; `cancelled` lets a queued job skip the
// hash when the exchange has gone.
struct DecisionTicket {
  Exchange* exchange = nullptr;
  std::atomic<bool> cancelled{false};
};

Exchange::Exchange(Worker& worker, const ConnectionInfo& connection, Downstream& downstream)
    : worker_(worker), connection_(connection), downstream_(downstream) {
  ev_init(&body_timer_, onBodyTimeout);
  body_timer_.data = this;
  start_ = ev_time();
  record_.start_unix_ms = Worker::nowUnixMs();
  record_.conn_id = connection.id;
  record_.protocol = connection.h2 ? "h2" : "h1";
  record_.client = connection.client_text;
  record_.decision = "error";
}

Exchange::~Exchange() {
  ev_timer_stop(worker_.loop(), &body_timer_);
  if (ticket_) {
    ticket_->exchange = nullptr;
    ticket_->cancelled.store(true, std::memory_order_relaxed);
  }
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

  // 3. Decision.
  host_key_ = host.key;
  forward_target_ = target->forwardTarget();
  policy::RequestFacts facts;
  facts.host = host.key;
  facts.client = connection_.client;
  facts.method = ir::methodFromToken(request_.method);
  facts.path = target->path;
  facts.credentials = &credentials;
  facts.now = static_cast<int64_t>(time(nullptr));
  if (host.status != policy::HostStatus::Ok) {
    // An unknown host runs through the same engine and container lookup as
    // a wrong ID, so neither gets a faster or different response. Its key is
    // all zeros, and the response is 404 whatever the engine returns for it.
    // No credential goes with it, so no verifier runs.
    policy::Credentials none;
    facts.credentials = &none;
    (void)policy_->decide(facts, worker_.verifier());
    wipe(credentials.password);
    return applyDecision(policy::Decision{});
  }
  // Bearer and JWT checks are cheap enough for the loop; password hashes
  // are not.
  if (credentials.kind == policy::Credentials::Kind::Basic && worker_.decisionPool() != nullptr &&
      mayVerifyPassword(*policy_, host.key)) {
    decideOnPool(facts);
    wipe(credentials.password);
    return;
  }
  policy::Decision decision = policy_->decide(facts, worker_.verifier(), reasonTextForLog());
  wipe(credentials.password);
  applyDecision(decision);
}

void Exchange::decideOnPool(const policy::RequestFacts& facts) {
  auto owned = std::make_shared<OwnedFacts>();
  owned->host = facts.host;
  owned->client = facts.client;
  owned->method = facts.method;
  owned->path = std::string(facts.path);
  owned->credentials = *facts.credentials;
  owned->now = facts.now;
  auto ticket = std::make_shared<DecisionTicket>();
  ticket->exchange = this;

  std::shared_ptr<const PolicySnapshot> snapshot = policy_;
  std::shared_ptr<LoopInbox> inbox = worker_.inbox();
  ReasonText reason = reasonTextForLog();
  bool queued = worker_.decisionPool()->submit(
      [ticket, owned, snapshot, inbox, reason](auth::CachingVerifier& verifier) {
        if (ticket->cancelled.load(std::memory_order_relaxed)) return;
        policy::Decision decision;
        // The JIT engine denies when a verifier throws; the interpreter
        // lets the exception through.
        try {
          decision = snapshot->decide(owned->view(), verifier, reason);
        } catch (const std::exception& e) {
          spdlog::error("a pooled decision failed: {}", e.what());
          decision = policy::Decision{};
          decision.outcome = policy::Outcome::Forbidden;
        }
        wipe(owned->credentials.password);
        inbox->post([ticket, decision = std::move(decision)] {
          if (ticket->exchange != nullptr) ticket->exchange->onDecision(decision);
        });
      });
  if (!queued) {
    uint64_t n = worker_.stats().decision_queue_full.fetch_add(1, std::memory_order_relaxed) + 1;
    // Logged for the first rejection and then every 1000th, to bound the noise.
    if (n == 1 || n % 1000 == 0) {
      spdlog::warn("worker {}: the password-check queue is full; responded 503 to {} requests "
                   "so far",
                   worker_.index(), n);
    }
    overloaded_ = true;
    return respondLocal(503, "decision-queue-full");
  }
  worker_.stats().pooled_decisions.fetch_add(1, std::memory_order_relaxed);
  ticket_ = std::move(ticket);
}

void Exchange::onDecision(const policy::Decision& decision) {
  ticket_.reset();
  if (response_complete_) return;
  applyDecision(decision);
}

void Exchange::applyDecision(const policy::Decision& decision) {
  const ir::Policy& policy = *policy_->policy;
  if (!decision.reason.empty()) {
    spdlog::trace("[C{}][S{}] decision {}: {}", connection_.id, request_.stream_id,
                  policy::outcomeName(decision.outcome), decision.reason);
  }
  record_.decision = std::string(policy::outcomeName(decision.outcome));
  if (decision.realm >= 0 && decision.container >= 0) {
    const ir::Realm& realm = policy.realms[static_cast<size_t>(decision.realm)];
    record_.realm = realm.name;
    record_.container = realm.containers[static_cast<size_t>(decision.container)].name;
    record_.service = std::string(ir::serviceName(host_key_.service));
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
  const ir::ServicePort* port = findPort(container, host_key_.service, host_key_.instance);
  // An instance the inventory does not deploy is not there at all: the same
  // 404 as an unknown host, not an upstream failure.
  if (port == nullptr) return respondLocal(404, "service-not-deployed");
  Result<net::Endpoint> endpoint = net::makeEndpoint(container.upstream.address, port->port);
  if (!endpoint) return respondLocal(502, "invalid-upstream-address");
  endpoint_ = *endpoint;
  endpoint_key_ = endpoint_.str();
  request_.target = forward_target_;
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
  if (request_.expect_continue && !request_complete_) downstream_.sendContinue();
  if (!connectUpstream(true)) return;
  sendRequestHeadUpstream();

  // Body bytes that arrived while the decision was pending go first.
  if (!pending_body_.empty()) {
    std::string body;
    body.swap(pending_body_);
    writeBodyUpstream(body);
  }
  if (request_complete_) {
    endRequestUpstream();
  } else {
    restartBodyTimer();
  }
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
  if (ticket_) {
    // Acknowledged once forwarded or dropped, so the client stays within
    // the front end's window meanwhile.
    pending_body_.append(data);
    return;
  }
  if (!forwarding_ || !upstream_) {
    // Answered locally or failed: the body is read and dropped.
    downstream_.consumedRequestBody(data.size());
    return;
  }
  writeBodyUpstream(data);
  restartBodyTimer();
}

void Exchange::writeBodyUpstream(std::string_view data) {
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
  stopBodyTimer();
  endRequestUpstream();
}

void Exchange::endRequestUpstream() {
  if (!forwarding_ || !upstream_ || request_end_sent_) return;
  if (upstream_chunked_) upstream_->write(http::kLastChunk);
  request_end_sent_ = true;
}

// The body timer measures how long a forwarded body waits for the client.
// It restarts whenever body bytes arrive or leave toward the upstream.
void Exchange::restartBodyTimer() {
  if (request_complete_ || head_received_ || response_complete_ || !forwarding_) return;
  body_timer_.repeat = worker_.config().request_body_timeout_s;
  ev_timer_again(worker_.loop(), &body_timer_);
}

void Exchange::stopBodyTimer() { ev_timer_stop(worker_.loop(), &body_timer_); }

void Exchange::onBodyTimeout(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<Exchange*>(w->data);
  if (self->request_complete_ || self->head_received_ || self->response_complete_ ||
      !self->forwarding_) {
    self->stopBodyTimer();
    return;
  }
  // Bytes still queued toward the upstream mean the upstream is behind, not
  // the client; the upstream timeout covers that case.
  if (self->unacknowledged_body_ > 0) {
    self->restartBodyTimer();
    return;
  }
  spdlog::debug("[C{}][S{}] request body made no progress within {} s", self->connection_.id,
                self->request_.stream_id, self->worker_.config().request_body_timeout_s);
  self->upstream_.reset();
  self->forwarding_ = false;
  self->respondLocal(408, "request-body-timeout");
}

void Exchange::onDownstreamDrained() {
  if (upstream_ && head_received_ && !response_complete_) upstream_->resumeRead();
}

void Exchange::cancel(std::string_view reason) {
  if (ticket_) {
    ticket_->exchange = nullptr;
    ticket_->cancelled.store(true, std::memory_order_relaxed);
    ticket_.reset();
  }
  stopBodyTimer();
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
  stopBodyTimer();
  releasePendingBody();

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
  if (status == 503 && overloaded_) headers.push_back({"Retry-After", "1"});
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

// Acknowledges body bytes buffered during the decision that will never be
// forwarded, so the front end's flow control does not stall on them.
void Exchange::releasePendingBody() {
  if (pending_body_.empty()) return;
  size_t n = pending_body_.size();
  pending_body_.clear();
  downstream_.consumedRequestBody(n);
}

void Exchange::failUpstream(int status, std::string_view error, const std::string& detail) {
  spdlog::warn("[C{}][S{}] upstream {} failed: {}: {}", connection_.id, request_.stream_id,
               endpoint_key_, error, detail);
  upstream_.reset();
  forwarding_ = false;
  stopBodyTimer();
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
    restartBodyTimer();
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
    stopBodyTimer();
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
  stopBodyTimer();
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
