// SPDX-License-Identifier: Apache-2.0
// The server-side TLS context: TLS 1.2 and 1.3 only, ALPN `h2` and
// `http/1.1`, and the leaf certificate from the state directory.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "runtime/abi/result.h"

namespace hoody::tls {

using ContextPtr = std::shared_ptr<SSL_CTX>;

/// Builds a server context for `cert_file` and `key_file` (PEM). ALPN prefers
/// `h2` when the client offers it, then `http/1.1`; a client that offers
/// neither continues without ALPN and is served HTTP/1.1.
/// Error codes: "tls-error".
Result<ContextPtr> makeServerContext(const std::string& cert_file, const std::string& key_file);

enum class AppProtocol : uint8_t { Http1, Http2 };

/// The protocol ALPN selected on an established connection.
AppProtocol negotiatedProtocol(const SSL* ssl);

/// The SNI name the client sent, or empty.
std::string_view serverName(const SSL* ssl);

/// Drains OpenSSL's error queue into one line for logs.
std::string lastErrorString();

}  // namespace hoody::tls
