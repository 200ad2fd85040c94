// SPDX-License-Identifier: Apache-2.0
// Header rewriting between clients and upstreams.
#include "runtime/proxy/forwarding.h"

#include <algorithm>
#include <vector>

namespace hoody::proxy {
namespace {

using http::equalsIgnoreCase;
using http::startsWithIgnoreCase;

// Names listed in Connection fields, in gateway form; they are hop-by-hop
// for this message.
std::vector<std::string> connectionTokens(const http::HeaderList& headers) {
  std::vector<std::string> tokens;
  for (const http::HeaderField& field : headers) {
    if (!equalsIgnoreCase(field.name, "connection")) continue;
    for (std::string_view token : http::splitList(field.value)) {
      tokens.push_back(gatewayFieldName(token));
    }
  }
  return tokens;
}

bool listedIn(const std::vector<std::string>& tokens, std::string_view gateway_name) {
  for (const std::string& token : tokens) {
    if (token == gateway_name) return true;
  }
  return false;
}

// Hop-by-hop test on a name already in gateway form.
bool isHopByHopGatewayName(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "te" || name == "trailer" ||
         name == "transfer-encoding" || name == "upgrade" || name.substr(0, 6) == "proxy-";
}

// Fields of the request the proxy replaces with its own, or that must not
// reach the upstream at all. `name` is in gateway form.
bool isReplacedRequestField(std::string_view name) {
  return name == "host" || name == "content-length" || name == "expect" ||
         name == "x-forwarded-for" || name == "x-forwarded-proto" ||
         name == "x-forwarded-host" || name == "forwarded" || name == "x-real-ip" ||
         name.substr(0, 8) == "x-hoody-";
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

std::string gatewayFieldName(std::string_view name) {
  std::string out = http::toLower(name);
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  return out;
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

  std::vector<std::string> listed = connectionTokens(client_headers);
  std::string cookies;  // HTTP/2 may split Cookie into several fields.
  for (const http::HeaderField& field : client_headers) {
    std::string gateway_name = gatewayFieldName(field.name);
    if (isHopByHopGatewayName(gateway_name) || isReplacedRequestField(gateway_name) ||
        listedIn(listed, gateway_name)) {
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
  std::vector<std::string> listed = connectionTokens(upstream_headers);
  http::HeaderList out;
  out.reserve(upstream_headers.size());
  for (const http::HeaderField& field : upstream_headers) {
    if (isHopByHopField(field.name) || listedIn(listed, gatewayFieldName(field.name))) continue;
    std::string name = for_h2 ? http::toLower(field.name) : field.name;
    if (equalsIgnoreCase(field.name, "set-cookie")) {
      out.push_back({std::move(name), removeCookieDomain(field.value)});
    } else if (equalsIgnoreCase(field.name, "clear-site-data")) {
      std::string kept = removeCookieClearing(field.value);
      if (!kept.empty()) out.push_back({std::move(name), std::move(kept)});
    } else {
      out.push_back({std::move(name), field.value});
    }
  }
  return out;
}

std::string removeCookieDomain(std::string_view set_cookie) {
  // The name-value pair ends at the first `;` and is kept as it is, even
  // when the cookie itself is named Domain.
  size_t semicolon = set_cookie.find(';');
  if (semicolon == std::string_view::npos) return std::string(set_cookie);
  std::string out(set_cookie.substr(0, semicolon));
  std::string_view rest = set_cookie.substr(semicolon + 1);
  for (;;) {
    size_t end = rest.find(';');
    std::string_view attribute = rest.substr(0, end);
    std::string_view name = http::trimWhitespace(attribute.substr(0, attribute.find('=')));
    if (!equalsIgnoreCase(name, "domain")) {
      out.push_back(';');
      out.append(attribute);
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return out;
}

std::string removeCookieClearing(std::string_view clear_site_data) {
  std::vector<std::string> types;
  auto add = [&types](std::string type) {
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  };
  for (std::string_view element : http::splitList(clear_site_data)) {
    // Compared without quotes and letter case, so no spelling a browser
    // might accept keeps the cookie type.
    std::string_view bare = element;
    if (bare.size() >= 2 && bare.front() == '"' && bare.back() == '"') {
      bare = http::trimWhitespace(bare.substr(1, bare.size() - 2));
    }
    if (equalsIgnoreCase(bare, "cookies")) continue;
    if (bare == "*") {
      add("\"cache\"");
      add("\"storage\"");
      add("\"executionContexts\"");
      continue;
    }
    add(std::string(element));
  }
  std::string out;
  for (const std::string& type : types) {
    if (!out.empty()) out += ", ";
    out += type;
  }
  return out;
}

}  // namespace hoody::proxy
