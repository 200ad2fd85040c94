// SPDX-License-Identifier: Apache-2.0
// Header rewriting between clients and upstreams.
//
// Toward the upstream, the proxy removes hop-by-hop fields (Connection and
// the fields it names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding,
// Upgrade). It replaces the client's framing fields with a single framing
// field of its own. It removes every client field starting with `X-Hoody-`
// and every forwarding field (X-Forwarded-For, -Proto, -Host, Forwarded,
// X-Real-IP), and adds its own X-Hoody-* and X-Forwarded-* fields. These
// removals compare names the way CGI and WSGI gateways map them to
// variables, case-insensitively and with `_` equal to `-`, so `X-Hoody_Group`
// is removed too. It removes Authorization unless the granting group
// forwards credentials. Toward the client, hop-by-hop fields are removed,
// Set-Cookie fields lose their Domain attribute, and Clear-Site-Data loses
// its cookie clearing. Every container shares the registrable domain, so
// each of these would reach the cookies of the other containers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/http/headers.h"

namespace hoody::proxy {

/// Facts the proxy sends the upstream about a request it forwards.
struct ForwardContext {
  std::string authority;  ///< The client's Host or :authority, forwarded as Host.
  std::string client;     ///< Client address for X-Forwarded-For.
  std::string realm;
  std::string group;  ///< Granting group name, or "default".
  std::string container;
  std::string service;
  bool keep_authorization = false;
};

/// Framing of the request body toward the upstream.
struct UpstreamFraming {
  bool has_body = false;
  std::optional<uint64_t> content_length;  ///< Without it a body is sent chunked.
};

/// Returns true for fields that never cross the proxy in either direction.
/// NOTE: Upgrade is among them, so WebSocket connections cannot pass the
/// proxy yet.
bool isHopByHopField(std::string_view name);

/// Builds the HTTP/1.1 request head for the upstream, ending in the empty
/// line. `target` is the normalized path plus the original query.
std::string buildUpstreamRequestHead(std::string_view method, std::string_view target,
                                     const http::HeaderList& client_headers,
                                     const ForwardContext& context, const UpstreamFraming& framing);

/// Returns `name` lowercased with every `_` replaced by `-`. CGI, WSGI and
/// similar gateways map both spellings to the same variable, so the proxy
/// compares the names it removes in this form.
std::string gatewayFieldName(std::string_view name);

/// Filters upstream response fields for the client: removes hop-by-hop
/// fields, the Domain attribute of every Set-Cookie field and the cookie
/// clearing of Clear-Site-Data. For HTTP/2 the names are lowercased.
http::HeaderList filterResponseHeaders(const http::HeaderList& upstream_headers, bool for_h2);

/// Removes every Domain attribute from a Set-Cookie value and keeps all
/// other bytes. The cookie then stays host-only: a container cannot set a
/// cookie that browsers send to the other containers under the same domain.
/// The value is split at every `;`, quotes included, because browsers split
/// it that way (RFC 6265 section 5.2).
std::string removeCookieDomain(std::string_view set_cookie);

/// Removes the `"cookies"` type from a Clear-Site-Data value and replaces
/// `"*"` with the other types it stands for (`"cache"`, `"storage"`,
/// `"executionContexts"`). Browsers clear cookies for the whole registrable
/// domain, which the containers share. Returns an empty string when no type
/// is left, and the field is then dropped.
std::string removeCookieClearing(std::string_view clear_site_data);

}  // namespace hoody::proxy
