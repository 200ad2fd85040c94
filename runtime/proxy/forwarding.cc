// SPDX-License-Identifier: Apache-2.0
// Header rewriting between clients and upstreams.
#include "runtime/proxy/forwarding.h"

#include <vector>

namespace hoody::proxy {
namespace {

using http::equalsIgnoreCase;
using http::startsWithIgnoreCase;

// Names listed in Connection fields; they are hop-by-hop for this message.
std::vector<std::string_view> connectionTokens(const http::HeaderList& headers) {
  std::vector<std::string_view> tokens;
  for (const http::HeaderField& field : headers) {
    if (!equalsIgnoreCase(field.name, "connection")) continue;
    for (std::string_view token : http::splitList(field.value)) tokens.push_back(token);
  }
  return tokens;
}

bool listedIn(const std::vector<std::string_view>& tokens, std::string_view name) {
  for (std::string_view token : tokens) {
    if (equalsIgnoreCase(token, name)) return true;
  }
  return false;
}

// Fields of the request the proxy replaces with its own, or that must not
// reach the upstream at all.
bool isReplacedRequestField(std::string_view name) {
  return equalsIgnoreCase(name, "host") || equalsIgnoreCase(name, "content-length") ||
         equalsIgnoreCase(name, "expect") || equalsIgnoreCase(name, "x-forwarded-for") ||
         equalsIgnoreCase(name, "x-forwarded-proto") ||
         equalsIgnoreCase(name, "x-forwarded-host") || equalsIgnoreCase(name, "forwarded") ||
         startsWithIgnoreCase(name, "x-hoody-");
}

void appendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

}  // namespace

bool isHopByHopField(std::string_view name) {
  return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive") ||
         equalsIgnoreCase(name, "te") || equalsIgnoreCase(name, "trailer") ||
         equalsIgnoreCase(name, "transfer-encoding") || equalsIgnoreCase(name, "upgrade") ||
         startsWithIgnoreCase(name, "proxy-");
}

std::string buildUpstreamRequestHead(std::string_view method, std::string_view target,
                                     const http::HeaderList& client_headers,
                                     const ForwardContext& context,
                                     const UpstreamFraming& framing) {
  std::string out;
  out.reserve(512);
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  appendField(&out, "Host", context.authority);

  std::vector<std::string_view> listed = connectionTokens(client_headers);
  std::string cookies;  // HTTP/2 may split Cookie into several fields.
  for (const http::HeaderField& field : client_headers) {
    if (isHopByHopField(field.name) || isReplacedRequestField(field.name) ||
        listedIn(listed, field.name)) {
      continue;
    }
    if (equalsIgnoreCase(field.name, "authorization") && !context.keep_authorization) continue;
    if (equalsIgnoreCase(field.name, "cookie")) {
      if (!cookies.empty()) cookies.append("; ");
      cookies.append(field.value);
      continue;
    }
    appendField(&out, field.name, field.value);
  }
  if (!cookies.empty()) appendField(&out, "Cookie", cookies);

  appendField(&out, "X-Forwarded-For", context.client);
  appendField(&out, "X-Forwarded-Proto", "https");
  appendField(&out, "X-Hoody-Realm", context.realm);
  appendField(&out, "X-Hoody-Group", context.group);
  appendField(&out, "X-Hoody-Container", context.container);
  appendField(&out, "X-Hoody-Service", context.service);
  if (framing.content_length) {
    appendField(&out, "Content-Length", std::to_string(*framing.content_length));
  } else if (framing.has_body) {
    appendField(&out, "Transfer-Encoding", "chunked");
  }
  out.append("\r\n");
  return out;
}

http::HeaderList filterResponseHeaders(const http::HeaderList& upstream_headers, bool for_h2) {
  std::vector<std::string_view> listed = connectionTokens(upstream_headers);
  http::HeaderList out;
  out.reserve(upstream_headers.size());
  for (const http::HeaderField& field : upstream_headers) {
    if (isHopByHopField(field.name) || listedIn(listed, field.name)) continue;
    if (for_h2) {
      out.push_back({http::toLower(field.name), field.value});
    } else {
      out.push_back(field);
    }
  }
  return out;
}

}  // namespace hoody::proxy
