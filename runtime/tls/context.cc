// SPDX-License-Identifier: Apache-2.0
// Server TLS context with ALPN selection.
#include "runtime/tls/context.h"

#include <openssl/err.h>

#include <cstring>

#include <fmt/format.h>

namespace hoody::tls {
namespace {

constexpr unsigned char kH2[] = {'h', '2'};
constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

// Returns true when the ALPN wire list `in` contains `proto`.
bool offers(const unsigned char* in, unsigned int inlen, const unsigned char* proto, size_t len) {
  unsigned int i = 0;
  while (i < inlen) {
    unsigned int n = in[i];
    if (i + 1 + n > inlen) return false;
    if (n == len && memcmp(in + i + 1, proto, len) == 0) return true;
    i += 1 + n;
  }
  return false;
}

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  if (offers(in, inlen, kH2, sizeof(kH2))) {
    *out = kH2;
    *outlen = sizeof(kH2);
    return SSL_TLSEXT_ERR_OK;
  }
  if (offers(in, inlen, kHttp11, sizeof(kHttp11))) {
    *out = kHttp11;
    *outlen = sizeof(kHttp11);
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::string lastErrorString() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

Result<ContextPtr> makeServerContext(const std::string& cert_file, const std::string& key_file) {
  ContextPtr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return makeError("tls-error", "cannot create a TLS context: " + lastErrorString());
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  // TLS 1.2: forward-secret AEAD suites only, which also satisfies HTTP/2's
  // cipher suite rules (RFC 9113 section 9.2.2).
  if (SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
    return makeError("tls-error", "cannot set the cipher list: " + lastErrorString());
  }
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1) {
    return makeError("tls-error", fmt::format("cannot load the certificate `{}`: {}", cert_file,
                                              lastErrorString()));
  }
  if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(c) != 1) {
    return makeError("tls-error", fmt::format("cannot load the private key `{}`: {}", key_file,
                                              lastErrorString()));
  }
  SSL_CTX_set_alpn_select_cb(c, selectAlpn, nullptr);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  return ctx;
}

AppProtocol negotiatedProtocol(const SSL* ssl) {
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  if (len == sizeof(kH2) && memcmp(proto, kH2, len) == 0) return AppProtocol::Http2;
  return AppProtocol::Http1;
}

std::string_view serverName(const SSL* ssl) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  return name == nullptr ? std::string_view() : std::string_view(name);
}

}  // namespace hoody::tls
