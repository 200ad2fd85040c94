// SPDX-License-Identifier: Apache-2.0
// Header rewriting between clients and upstreams.
//
// Toward the upstream, the proxy removes hop-by-hop fields (Connection and
// the fields it names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding,
// Upgrade). It replaces the client's framing fields with a single framing
// field of its own. It removes every client field starting with `X-Hoody-`
// and adds its own X-Hoody-* and X-Forwarded-* fields. It removes
// Authorization unless the granting group forwards credentials. Toward the
// client, only hop-by-hop fields are removed.
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

/// Filters upstream response fields for the client. For HTTP/2 the names are
/// lowercased.
http::HeaderList filterResponseHeaders(const http::HeaderList& upstream_headers, bool for_h2);

}  // namespace hoody::proxy
