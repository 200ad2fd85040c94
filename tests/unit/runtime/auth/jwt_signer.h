// SPDX-License-Identifier: Apache-2.0
// Test helpers that make keys and sign JWTs with OpenSSL EVP, independently
// of the verifier under test.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

namespace hoody::auth::testing {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

inline PkeyPtr wrapKey(EVP_PKEY* key) {
  if (key == nullptr) {
    throw std::runtime_error("key generation failed");
  }
  return PkeyPtr(key, PkeyDeleter());
}

inline PkeyPtr makeRsaKey(unsigned bits = 2048) {
  return wrapKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

/// `curve` is "P-256", "P-384" or "P-521".
inline PkeyPtr makeEcKey(const char* curve) {
  return wrapKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

inline PkeyPtr makeEd25519Key() { return wrapKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

inline std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

inline std::string publicPem(const PkeyPtr& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key.get());
  return bioText(bio);
}

inline std::string privatePem(const PkeyPtr& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bioText(bio);
}

inline std::string base64Url(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

inline const EVP_MD* digestForBits(int bits) {
  if (bits == 384) {
    return EVP_sha384();
  }
  if (bits == 512) {
    return EVP_sha512();
  }
  return EVP_sha256();
}

/// How to sign: the JWS family plus its hash size.
enum class SignMode { RsaPkcs1, RsaPss, Ecdsa, EcdsaDer, EdDsa };

/// Signs `input` with `key`. Ecdsa returns the JWS raw r||s form with
/// `coordinate_bytes` per integer; EcdsaDer returns OpenSSL's DER form.
inline std::string sign(const PkeyPtr& key, SignMode mode, int hash_bits, std::string_view input,
                        size_t coordinate_bytes = 0) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = mode == SignMode::EdDsa ? nullptr : digestForBits(hash_bits);
  if (EVP_DigestSignInit(ctx, &pctx, md, nullptr, key.get()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("EVP_DigestSignInit failed");
  }
  if (mode == SignMode::RsaPss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md);
  }
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx, nullptr, &len, data, input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (mode != SignMode::Ecdsa) {
    return sig;
  }

  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
  std::string raw(2 * coordinate_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(parsed), out, static_cast<int>(coordinate_bytes));
  BN_bn2binpad(ECDSA_SIG_get0_s(parsed), out + coordinate_bytes, static_cast<int>(coordinate_bytes));
  ECDSA_SIG_free(parsed);
  return raw;
}

inline std::string hmac(std::string_view secret, int hash_bits, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  const char* name = EVP_MD_get0_name(digestForBits(hash_bits));
  EVP_Q_mac(nullptr, "HMAC", nullptr, name, nullptr, secret.data(), secret.size(),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof(mac),
            &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

/// `header.payload` of a token, each base64url-encoded from JSON text.
inline std::string signingInput(std::string_view header_json, std::string_view payload_json) {
  return base64Url(header_json) + "." + base64Url(payload_json);
}

inline std::string joinToken(std::string_view input, std::string_view signature) {
  return std::string(input) + "." + base64Url(signature);
}

}  // namespace hoody::auth::testing
