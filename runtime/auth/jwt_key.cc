// SPDX-License-Identifier: Apache-2.0
// JWS signature verification with OpenSSL 3 EVP: RSA PKCS#1 v1.5, RSA-PSS,
// ECDSA, EdDSA and HMAC, each only with a key of its own family.
#include "runtime/auth/internal/jwt_key.h"

#include <array>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <sodium.h>

namespace hoody::auth::internal {
namespace {

/// RFC 7518 section 3.3 and 3.5: RSA keys of 2048 bits or more.
constexpr int kMinRsaBits = 2048;

constexpr std::array<JwsAlgorithm, 13> kAlgorithms = {{
    {"RS256", JwsFamily::RsaPkcs1, 256, 0, 0},
    {"RS384", JwsFamily::RsaPkcs1, 384, 0, 0},
    {"RS512", JwsFamily::RsaPkcs1, 512, 0, 0},
    {"PS256", JwsFamily::RsaPss, 256, 0, 0},
    {"PS384", JwsFamily::RsaPss, 384, 0, 0},
    {"PS512", JwsFamily::RsaPss, 512, 0, 0},
    {"ES256", JwsFamily::Ecdsa, 256, NID_X9_62_prime256v1, 32},
    {"ES384", JwsFamily::Ecdsa, 384, NID_secp384r1, 48},
    {"ES512", JwsFamily::Ecdsa, 512, NID_secp521r1, 66},
    {"EdDSA", JwsFamily::EdDsa, 0, 0, 0},
    {"HS256", JwsFamily::Hmac, 256, 0, 0},
    {"HS384", JwsFamily::Hmac, 384, 0, 0},
    {"HS512", JwsFamily::Hmac, 512, 0, 0},
}};

const EVP_MD* digestFor(const JwsAlgorithm& alg) {
  switch (alg.hash_bits) {
    case 256:
      return EVP_sha256();
    case 384:
      return EVP_sha384();
    case 512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

const char* digestName(const JwsAlgorithm& alg) {
  switch (alg.hash_bits) {
    case 256:
      return "SHA256";
    case 384:
      return "SHA384";
    default:
      return "SHA512";
  }
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

/// Runs EVP_DigestVerify with `md` (null for EdDSA) and, for RSA-PSS, a salt
/// as long as the hash and MGF1 with the same hash (RFC 7518 section 3.5).
bool digestVerify(EVP_PKEY* key, const EVP_MD* md, bool pss, std::string_view signature,
                  std::string_view signing_input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // Owned by ctx.
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, md, nullptr, key) != 1) {
    return false;
  }
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
              EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, md) != 1)) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signing_input),
                          signing_input.size()) == 1;
}

bool verifyRsa(const JwtKey& key, const JwsAlgorithm& alg, std::string_view signature,
               std::string_view signing_input) {
  // A JWS RSA signature is exactly as long as the modulus (RFC 7518 3.3).
  if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key.public_key.get()))) {
    return false;
  }
  return digestVerify(key.public_key.get(), digestFor(alg), alg.family == JwsFamily::RsaPss,
                      signature, signing_input);
}

struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

/// Converts the JWS form of an ECDSA signature, r and s as fixed-length
/// big-endian integers back to back (RFC 7518 section 3.4), to the DER
/// form OpenSSL verifies. Returns an empty string on a wrong length.
std::string ecdsaRawToDer(std::string_view raw, size_t coordinate_bytes) {
  if (raw.size() != 2 * coordinate_bytes) {
    return {};
  }
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes(raw), static_cast<int>(coordinate_bytes), nullptr);
  BIGNUM* s = BN_bin2bn(bytes(raw) + coordinate_bytes, static_cast<int>(coordinate_bytes), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) {
    return {};
  }
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) {
    return {};
  }
  return der;
}

bool verifyEcdsa(const JwtKey& key, const JwsAlgorithm& alg, std::string_view signature,
                 std::string_view signing_input) {
  std::string der = ecdsaRawToDer(signature, alg.ec_coordinate_bytes);
  if (der.empty()) {
    return false;
  }
  return digestVerify(key.public_key.get(), digestFor(alg), false, der, signing_input);
}

bool verifyHmac(const JwtKey& key, const JwsAlgorithm& alg, std::string_view signature,
                std::string_view signing_input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digestName(alg), nullptr, key.secret.data(),
                key.secret.size(), bytes(signing_input), signing_input.size(), mac.data(),
                mac.size(), &mac_len) == nullptr) {
    return false;
  }
  // The length is public because it follows from the algorithm. The bytes
  // are compared in constant time.
  bool ok = signature.size() == mac_len &&
            sodium_memcmp(mac.data(), bytes(signature), mac_len) == 0;
  sodium_memzero(mac.data(), mac.size());
  return ok;
}

std::string_view familyName(JwsFamily family) {
  switch (family) {
    case JwsFamily::RsaPkcs1:
    case JwsFamily::RsaPss:
      return "an RSA public key";
    case JwsFamily::Ecdsa:
      return "an EC public key";
    case JwsFamily::EdDsa:
      return "an Ed25519 or Ed448 public key";
    case JwsFamily::Hmac:
      return "an HMAC secret";
  }
  return "a key";
}

}  // namespace

const JwsAlgorithm* findJwsAlgorithm(std::string_view name) {
  for (const JwsAlgorithm& alg : kAlgorithms) {
    if (alg.name == name) {
      return &alg;
    }
  }
  return nullptr;
}

std::string describeKey(const JwtKey& key) {
  switch (key.type) {
    case KeyType::Rsa:
      return "an RSA " + std::to_string(key.bits) + "-bit public key";
    case KeyType::RsaPss:
      return "an RSA-PSS " + std::to_string(key.bits) + "-bit public key";
    case KeyType::Ec: {
      const char* curve = EC_curve_nid2nist(key.ec_curve_nid);
      return std::string("an EC ") + (curve ? curve : "non-NIST curve") + " public key";
    }
    case KeyType::Ed25519:
      return "an Ed25519 public key";
    case KeyType::Ed448:
      return "an Ed448 public key";
    case KeyType::Hmac:
      return "an HMAC secret of " + std::to_string(key.secret.size()) + " bytes";
  }
  return "a key";
}

std::string keyMismatch(const JwtKey& key, const JwsAlgorithm& alg) {
  std::string name(alg.name);
  if (!key.algorithm.empty() && key.algorithm != alg.name) {
    return "the JWK is limited to `" + key.algorithm + "`";
  }
  bool family_fits = false;
  switch (alg.family) {
    case JwsFamily::RsaPkcs1:
      family_fits = key.type == KeyType::Rsa;
      break;
    case JwsFamily::RsaPss:
      family_fits = key.type == KeyType::Rsa || key.type == KeyType::RsaPss;
      break;
    case JwsFamily::Ecdsa:
      family_fits = key.type == KeyType::Ec;
      break;
    case JwsFamily::EdDsa:
      family_fits = key.type == KeyType::Ed25519 || key.type == KeyType::Ed448;
      break;
    case JwsFamily::Hmac:
      family_fits = key.type == KeyType::Hmac;
      break;
  }
  if (!family_fits) {
    return name + " needs " + std::string(familyName(alg.family)) + ", not " + describeKey(key);
  }
  if (alg.family == JwsFamily::RsaPkcs1 || alg.family == JwsFamily::RsaPss) {
    if (key.bits < kMinRsaBits) {
      return name + " needs an RSA key of at least 2048 bits, not " + describeKey(key);
    }
  }
  if (alg.family == JwsFamily::Ecdsa && key.ec_curve_nid != alg.ec_curve_nid) {
    return name + " needs an EC key on curve " + EC_curve_nid2nist(alg.ec_curve_nid) + ", not " +
           describeKey(key);
  }
  // RFC 7518 section 3.2: the secret is at least as long as the hash output.
  if (alg.family == JwsFamily::Hmac && key.secret.size() < static_cast<size_t>(alg.hash_bits / 8)) {
    return name + " needs a secret of at least " + std::to_string(alg.hash_bits / 8) +
           " bytes, not " + describeKey(key);
  }
  return {};
}

Result<void> JwtKeySet::checkUsable(const JwsAlgorithm& alg) const {
  std::string reasons;
  for (const JwtKey& key : keys_) {
    std::string reason = keyMismatch(key, alg);
    if (reason.empty()) {
      return {};
    }
    reasons += reasons.empty() ? reason : "; " + reason;
  }
  if (keys_.empty()) {
    reasons = "the key file holds no key";
  }
  return makeError("invalid-jwt-key", "no key can verify " + std::string(alg.name) + ": " + reasons);
}

bool JwtKeySet::verify(const JwsAlgorithm& alg, std::string_view signing_input,
                       std::string_view signature) const {
  if (signature.empty()) {
    return false;
  }
  for (const JwtKey& key : keys_) {
    if (!keyMismatch(key, alg).empty()) {
      continue;
    }
    bool ok = false;
    switch (alg.family) {
      case JwsFamily::RsaPkcs1:
      case JwsFamily::RsaPss:
        ok = verifyRsa(key, alg, signature, signing_input);
        break;
      case JwsFamily::Ecdsa:
        ok = verifyEcdsa(key, alg, signature, signing_input);
        break;
      case JwsFamily::EdDsa:
        ok = digestVerify(key.public_key.get(), nullptr, false, signature, signing_input);
        break;
      case JwsFamily::Hmac:
        ok = verifyHmac(key, alg, signature, signing_input);
        break;
    }
    if (ok) {
      return true;
    }
  }
  return false;
}

}  // namespace hoody::auth::internal
